"""Run, check and create the companion's notebooks.

Command line (``python -m companion.notebooks --help``)::

    python -m companion.notebooks run [NAMES...] [--smoke] [--device cpu|cuda] [--out build/]
    python -m companion.notebooks check [NAMES...]      # hygiene: no outputs, metadata, header
    python -m companion.notebooks clean [NAMES...]      # strip outputs in place
    python -m companion.notebooks new NAME "English title" "中文标题"
    python -m companion.notebooks translate [NAMES...] [--check] [--list]
                              # update locale/zh_CN/ catalogs; write notebooks/zh/, README.zh-CN.md

``NAMES`` are notebook file names or unique prefixes (``5.1``, ``5.2.3``); none means all.
Notebooks are looked for in ``--dir``, then ``$COMPANION_NOTEBOOKS``, then ``./notebooks``, then
the current folder — never inside the installed package, which does not ship them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPOSITORY = "encoder-decoder-companion/companion"  # GitHub "owner/name"; change here for a fork
BRANCH = "main"
REQUIRED_PARAMETERS = ("smoke", "seed", "device", "language")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
#: every notebook is stored as nbformat 4.5, the first minor version with cell ids; the Chinese
#: edition keys its translations on those ids, so they never change once assigned
NBFORMAT_MINOR = 5
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: the folder of notebooks/ that holds each generated edition (companion.chinese_edition)
EDITION_DIRS = {"zh": "zh"}


def colab_url(name: str) -> str:
    """The Colab address of ``notebooks/NAME`` (``name`` may be ``zh/NAME``: the Chinese twin)."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{name}"


def colab_badge(name: str) -> str:
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(name)})"
    )


DISTRIBUTION = (
    "encoder-decoder-companion"  # the name pip knows the package by (import name: companion)
)
CJK_FONT_PACKAGE = "fonts-wqy-microhei"  # small Debian font with Chinese glyphs, for plot labels


def colab_source() -> str:
    """Where the Colab cell installs the package from: this repository's branch, via git."""
    return f"git+https://github.com/{REPOSITORY}@{BRANCH}"


def colab_install_source() -> str:
    """The notebook cell that installs ``companion`` on Colab and does nothing anywhere else.

    pip keeps what Colab already has (torch, numpy, matplotlib, ipywidgets 7) because the
    package's floors are met; a failed install stops the notebook with one sentence saying what
    to do instead of pip's or git's traceback. A small CJK font makes Chinese plot labels render.
    """
    return (
        "# On Google Colab: install the companion package and a Chinese font. Elsewhere: nothing.\n"
        "import subprocess, sys\n"
        f'SOURCE = "{colab_source()}"\n'
        'if "google.colab" in sys.modules:\n'
        '    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
        f'                          f"{DISTRIBUTION} @ {{SOURCE}}"],'
        " capture_output=True, text=True)\n"
        "    if pip.returncode != 0:\n"
        '        sys.exit(f"Could not install the companion from {SOURCE}:'
        ' check that this runtime is "\n'
        '                 f"online, then run this cell again.'
        ' (pip said: {pip.stderr.strip()[-200:]})")\n'
        f'    subprocess.run("apt-get install -y -qq {CJK_FONT_PACKAGE}'
        ' || (apt-get update -qq && "\n'
        f'                   "apt-get install -y -qq {CJK_FONT_PACKAGE})",'
        " shell=True, capture_output=True)"
    )


# ---------------------------------------------------------------- finding notebooks


def repository_name(path: Path) -> str:
    """A notebook's path below notebooks/: ``NAME.ipynb``, or ``zh/NAME.ipynb`` in an edition."""
    path = Path(path)
    if path.parent.name in EDITION_DIRS.values():
        return f"{path.parent.name}/{path.name}"
    return path.name


def _is_notebook_dir(path: Path) -> bool:
    return path.is_dir() and any(path.glob("5*.ipynb"))


def notebook_dir(path: str | Path | None = None) -> Path:
    """The folder holding the chapter's notebooks.

    ``path`` if given, else ``$COMPANION_NOTEBOOKS``, else ``./notebooks``, else the current
    folder when it holds the numbered notebooks (``5.1-….ipynb``).
    """
    if path is not None:
        root = Path(path)
        if not root.is_dir():
            raise ValueError(f"no notebooks folder at {root}")
        return root
    if os.environ.get("COMPANION_NOTEBOOKS"):
        return notebook_dir(os.environ["COMPANION_NOTEBOOKS"])
    for candidate in (Path.cwd() / "notebooks", Path.cwd()):
        if _is_notebook_dir(candidate):
            return candidate
    raise ValueError(
        f"found no notebooks in {Path.cwd()} or its notebooks/ folder: run this from "
        "the repository's root folder, or pass --dir PATH (or set COMPANION_NOTEBOOKS)"
    )


def notebook_paths(names: Sequence[str] = (), root: Path | None = None) -> list[Path]:
    """All notebooks under ``root`` in book order, or those matching ``names`` (name or prefix)."""
    root = notebook_dir(root)
    every = sorted((p for p in root.glob("*.ipynb")), key=lambda p: _book_order(p.name))
    if not names:
        return every
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        hits = [p for p in every if p.stem == stem] or [
            p for p in every if p.stem.startswith(stem + "-")
        ]
        hits = hits or [p for p in every if p.stem.startswith(stem)]
        if not hits:
            raise ValueError(f"no notebook matches {name!r}; available: {[p.name for p in every]}")
        chosen += [p for p in hits if p not in chosen]
    return chosen


def _book_order(name: str) -> tuple:
    number = name.split("-", 1)[0]
    return tuple(int(x) if x.isdigit() else x for x in number.split(".")), name


# ---------------------------------------------------------------- hygiene


def notebook_problems(path: Path) -> list[str]:
    """Everything that breaks the notebook conventions (CONTRIBUTING.md); empty when clean."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"cannot be read as JSON ({exc})"]
    problems = _schema_problems(nb)
    meta = nb.get("metadata", {})
    if "kernelspec" not in meta:
        problems.append("no kernelspec metadata (papermill needs it)")
    if "language_info" not in meta:
        problems.append("no language_info metadata (papermill needs it)")
    cells = nb.get("cells", [])
    code = [c for c in cells if c.get("cell_type") == "code"]
    if any(c.get("outputs") for c in code):
        problems.append("has stored outputs (run `python -m companion.notebooks clean`)")
    if any(c.get("execution_count") is not None for c in code):
        problems.append("has execution counts (run `python -m companion.notebooks clean`)")

    def text(c) -> str:
        return "".join(c.get("source", ""))

    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(params) != 1:
        problems.append(f"needs exactly one cell tagged 'parameters', found {len(params)}")
    else:
        missing = [
            p
            for p in REQUIRED_PARAMETERS
            if not any(line.split("=")[0].strip() == p for line in text(params[0]).splitlines())
        ]
        if missing:
            problems.append(f"parameters cell lacks {missing}")
    head = cells[:4]
    if (
        not head
        or head[0].get("cell_type") != "markdown"
        or not text(head[0]).lstrip().startswith("#")
    ):
        problems.append("first cell must be a markdown title")
    elif colab_url(repository_name(path)) not in text(head[0]):
        problems.append(
            f"title cell lacks the Colab badge pointing at {colab_url(repository_name(path))}"
        )
    if not any(text(c).strip() == colab_install_source() for c in code[:2]):
        problems.append(
            "one of the first two code cells must be the Colab install cell "
            "(companion.notebooks.colab_install_source())"
        )
    if not any("companion.setup(" in text(c) for c in code[:4]):
        problems.append("calls companion.setup(seed=..., device=...) too late or not at all")
    return problems


def _schema_problems(nb: dict) -> list[str]:
    """Validation against the official notebook schema (nbformat), and one unique id per cell."""
    import nbformat

    problems = []
    if (nb.get("nbformat"), nb.get("nbformat_minor")) != (4, NBFORMAT_MINOR):
        problems.append(
            f"is nbformat {nb.get('nbformat')}.{nb.get('nbformat_minor')}, expected "
            f"4.{NBFORMAT_MINOR} (run `python -m companion.notebooks clean`)"
        )
    try:
        nbformat.validate(nb, version=4)
    except nbformat.ValidationError as exc:
        problems.append(f"is not valid by the notebook schema: {exc.message}")
    ids = [c.get("id") for c in nb.get("cells", [])]
    if any(i is None for i in ids):
        problems.append("has cells without an id (run `python -m companion.notebooks clean`)")
    if len({i for i in ids if i is not None}) != len([i for i in ids if i is not None]):
        problems.append("has two cells with the same id")
    return problems


def ensure_cell_ids(cells: list[dict]) -> None:
    """Give every cell without a valid, unique id a new random one; existing ids never change."""
    seen: set[str] = set()
    for cell in cells:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in seen:
            cell_id = uuid.uuid4().hex[:8]
            while cell_id in seen:
                cell_id = uuid.uuid4().hex[:8]
        seen.add(cell_id)
        # keep "id" right after "cell_type" as Jupyter writes it
        cell_type = cell.get("cell_type")
        rest = {k: v for k, v in cell.items() if k not in ("cell_type", "id")}
        cell.clear()
        cell.update({"cell_type": cell_type, "id": cell_id, **rest})


_COLAB_LINK = re.compile(r"\(https://colab\.research\.google\.com/github/[^)\s]+\)")


def _set_source(cell: dict, text: str) -> None:
    """Replace a cell's source, keeping its stored form (one string, or a list of lines)."""
    if "".join(cell.get("source", "")) != text:
        cell["source"] = (
            text if isinstance(cell.get("source"), str) else text.splitlines(keepends=True)
        )


def _refresh_header(cells: list[dict], name: str) -> None:
    """Point the title's badge at :data:`REPOSITORY` and make the install cell the current one."""
    if cells and cells[0].get("cell_type") == "markdown":
        title = "".join(cells[0].get("source", ""))
        _set_source(cells[0], _COLAB_LINK.sub(f"({colab_url(name)})", title))
    code = [c for c in cells if c.get("cell_type") == "code"][:2]
    for cell in code:
        if "google.colab" in "".join(cell.get("source", "")):
            _set_source(cell, colab_install_source())


def notebook_json(nb: dict) -> str:
    """A notebook as Jupyter itself writes it (sorted keys, one source line per JSON line), so
    that a change to one line of a cell is one line of ``git diff``."""
    import nbformat

    return nbformat.writes(nbformat.from_dict(nb), version=4) + "\n"


def clean_notebook(path: Path) -> bool:
    """Strip outputs and execution counts, add missing metadata and cell ids (nbformat 4.5),
    refresh the Colab badge and install cell (after a change of :data:`REPOSITORY`); return True
    if the file changed."""
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = json.loads(before)
    _refresh_header(nb.get("cells", []), repository_name(path))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
        cell.get("metadata", {}).pop("papermill", None)
    ensure_cell_ids(nb.get("cells", []))
    nb["nbformat"], nb["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 0), NBFORMAT_MINOR)
    nb.setdefault("metadata", {}).setdefault("kernelspec", KERNELSPEC)
    nb["metadata"].setdefault("language_info", LANGUAGE_INFO)
    nb["metadata"].pop("papermill", None)
    after = notebook_json(nb)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


def new_notebook(
    name: str, title_en: str, title_zh: str, parameters: str = "", root: Path | None = None
) -> Path:
    """Create ``notebooks/NAME.ipynb`` with the standard
    first cells (title, badge, install, parameters, setup).
    """
    import nbformat

    root = Path(root) if root is not None else notebook_dir()
    path = root / (name if name.endswith(".ipynb") else name + ".ipynb")
    if path.exists():
        raise ValueError(f"{path} already exists")
    root.mkdir(parents=True, exist_ok=True)
    section = name.split("-", 1)[0]
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    )
    params = (
        "smoke = False  # True: tiny sizes so CI runs every code path in seconds\n"
        'seed = 0\ndevice = "auto"  # "auto" picks CUDA when present\n'
        'language = "en"  # "en" or "zh": the language of the exercises\' messages (中文: "zh")\n'
        + parameters
    ).rstrip()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            f"# {section} {title_en}（{title_zh}）\n\n{colab_badge(path.name)}"
        ),
        nbformat.v4.new_code_cell(colab_install_source()),
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import companion\n\n"
            "device = companion.setup(seed=seed, device=device, smoke=smoke, language=language)"
        ),
    ]
    nb.nbformat_minor = NBFORMAT_MINOR  # nbformat.v4 gives every new cell an id
    path.write_text(notebook_json(nb), encoding="utf-8")
    return path


# ---------------------------------------------------------------- execution


@dataclass
class RunResult:
    notebook: str
    status: str  # "ok" or "FAILED"
    seconds: float
    output: Path
    error: str = ""


def run_notebook(
    path: Path,
    out_dir: Path,
    *,
    smoke: bool = False,
    device: str = "auto",
    parameters: dict[str, Any] | None = None,
    kernel_name: str | None = None,
    timeout: int | None = None,
    log_output: bool = False,
) -> RunResult:
    """Execute one notebook with papermill, injecting ``smoke``, ``device`` and ``parameters``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    path, out_dir = Path(path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / path.name
    params = {"smoke": smoke, "device": device, **(parameters or {})}
    extra = {} if os.name == "nt" else {"kernel_manager_class": _ipc_kernel_manager_class()}
    start = time.perf_counter()
    error = ""
    try:
        pm.execute_notebook(
            str(path),
            str(output),
            parameters=params,
            kernel_name=kernel_name,
            cwd=str(path.parent),
            progress_bar=False,
            log_output=log_output,
            execution_timeout=timeout,
            **extra,
        )
    except PapermillExecutionError as exc:
        error = (
            f"{path.name}: cell {exc.cell_index} (execution count {exc.exec_count}) raised "
            f"{exc.ename}: {exc.evalue}"
        )
    except Exception as exc:  # kernel died, timeout, bad notebook …
        error = f"{path.name}: {exc.__class__.__name__}: {exc}"
    seconds = time.perf_counter() - start
    return RunResult(path.name, "FAILED" if error else "ok", seconds, output, error)


def _ipc_kernel_manager_class():
    """A kernel manager whose kernels talk over Unix sockets instead of TCP ports.

    Kernels started at the same moment (parallel test workers) can otherwise race for the same
    free TCP port and hang; socket files named after each kernel's connection file cannot clash.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return IPCKernelManager


def format_table(results: Sequence[RunResult]) -> str:
    width = max([len("notebook")] + [len(r.notebook) for r in results])
    lines = [f"{'notebook':<{width}}  status  seconds", f"{'-' * width}  ------  -------"]
    lines += [f"{r.notebook:<{width}}  {r.status:<6}  {r.seconds:7.1f}" for r in results]
    lines.append(f"{'total':<{width}}          {sum(r.seconds for r in results):7.1f}")
    return "\n".join(lines)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companion.notebooks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dir",
        default=None,
        metavar="PATH",
        help="the notebooks folder (default: ./notebooks or the current folder)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks with papermill and print a timing table")
    run.add_argument("names", nargs="*")
    run.add_argument("--smoke", action="store_true", help="CI-sized run (every code path, short)")
    run.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    run.add_argument("--out", default="build/executed", help="folder for executed copies")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra parameter (VALUE parsed as JSON when possible), repeatable",
    )
    run.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    run.add_argument("--log-output", action="store_true", help="stream cell output to the terminal")
    for name, help_ in (
        ("check", "report notebooks that break the conventions"),
        ("clean", "strip outputs and execution counts in place"),
    ):
        names = sub.add_parser(name, help=help_)
        names.add_argument("names", nargs="*")
    translate = sub.add_parser(
        "translate",
        help="update the Chinese catalogs from the English and write notebooks/zh/ and "
        "README.zh-CN.md from them",
        description="Update locale/zh_CN/notebooks/*.po, locale/zh_CN/README.po and the package "
        "catalog from the English (a changed English text becomes fuzzy, a new one untranslated, "
        "a removed one obsolete), write notebooks/zh/ and README.zh-CN.md from them, and report "
        "what is left to translate and what a "
        "finished translation lost (formulas, numbers, inline code, links, the book's terms).",
    )
    translate.add_argument("names", nargs="*")
    translate.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when anything is out of date"
    )
    translate.add_argument(
        "--list", action="store_true", help="name every untranslated or fuzzy entry"
    )
    new = sub.add_parser("new", help="create a notebook with the standard first cells")
    new.add_argument("name")
    new.add_argument("title_en")
    new.add_argument("title_zh")
    args = parser.parse_args(argv)

    try:
        if args.command == "new":
            print(new_notebook(args.name, args.title_en, args.title_zh, root=args.dir))
            return 0
        if args.command == "translate":
            from companion import chinese_edition

            root = None if args.dir is None else Path(args.dir).resolve().parent
            layout = chinese_edition.Layout.of_repository(root)
            return chinese_edition.run(
                args.names, check=args.check, list_pending=args.list, layout=layout
            )
        paths = notebook_paths(args.names, root=args.dir)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        editions = [
            edition
            for folder in EDITION_DIRS.values()
            if (edition := notebook_dir(args.dir) / folder).is_dir()
        ]
        paths += [
            twin for edition in editions for p in list(paths) if (twin := edition / p.name).exists()
        ]
        bad = {repository_name(p): notebook_problems(p) for p in paths}
        for name, problems in bad.items():
            for problem in problems:
                print(f"{name}: {problem}")
        n_bad = sum(bool(v) for v in bad.values())
        print(f"{len(paths) - n_bad} of {len(paths)} notebooks follow the conventions")
        return 1 if n_bad else 0
    if args.command == "clean":
        for p in paths:
            if clean_notebook(p):
                print(f"cleaned {p.name}")
        return 0

    extra = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            print(f"error: --param expects KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        extra[key] = _parse_value(value)
    results = []
    for p in paths:
        print(f"running {p.name} …", flush=True)
        results.append(
            run_notebook(
                p,
                Path(args.out),
                smoke=args.smoke,
                device=args.device,
                parameters=extra,
                timeout=args.timeout,
                log_output=args.log_output,
            )
        )
    print(format_table(results))
    failed = [r for r in results if r.error]
    for r in failed:
        print(f"FAILED {r.error}", file=sys.stderr)
    print(f"executed copies in {Path(args.out).resolve()}")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    sys.exit(main())
