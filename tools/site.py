"""Build the lecture slides and the static site of executed notebooks, both usable offline.

    python -m tools.site slides [NAMES...] [--smoke] [--no-execute] [--out build/site]
    python -m tools.site site   [NAMES...] [--smoke] [--no-execute] [--out build/site]

(``make slides`` / ``make site``; ``SMOKE=1`` adds ``--smoke``.) Each notebook is executed with
papermill (``companion.notebooks.run_notebook``), then exported with nbconvert, whose exporters
run the export steps as preprocessors (tools/static_outputs.py, tools/slide_metadata.py):

    build/site/index.html                 front page: book sections, links to pages, slides, Colab
    build/site/notebooks/NAME.html        the executed notebook as a page
    build/site/notebooks/NAME.ipynb       the executed notebook itself
    build/site/slides/NAME.slides.html    reveal.js slides (metadata from tools/slide_metadata.py)
    build/site/assets/                    reveal.js, MathJax, require.js, jQuery, Font Awesome

Every page loads its scripts from ``assets/`` by relative URL, so the folder can be copied to a
USB stick and opened from disk in a classroom with no internet. The notebooks run with
``COMPANION_STATIC_SLIDERS=1``, so every slider pre-renders its frames and moves on the pages and
slides without a kernel (tools/static_sliders.py). The build prints the size of each notebook's
files; a slide taller than reveal's frame is shrunk to fit when shown (the slides template).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from companion import notebooks as nbtools
from companion.widgets.sliders import STATIC_SLIDERS_ENV

from . import front_page
from .offline_assets import AssetsMissing, exporter_urls, install_assets
from .slide_metadata import SlideMetadata
from .static_outputs import StaticOutputs, without_frames

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_OUT = ROOT / "build" / "site"
ASSET_PREFIX = "../assets"  # pages and slides sit one folder below the site root


@dataclass
class BuiltNotebook:
    path: Path  # the source notebook
    executed: Path  # the notebook whose outputs are shown
    error: str = ""  # why execution failed ("" when it ran)
    seconds: float = 0.0

    @property
    def stem(self) -> str:
        return self.path.stem


def _exporter(kind: str):
    """An nbconvert exporter whose pages load every asset from the local copies.

    Its preprocessors make the executed notebook display without a kernel (and, for slides,
    drop stderr and assign the slide types); they run before the reveal.js template's own.
    """
    from nbconvert import HTMLExporter, SlidesExporter

    cls, template = {
        "page": (HTMLExporter, "companion_page"),
        "slides": (SlidesExporter, "companion_slides"),
    }[kind]
    steps = (
        [StaticOutputs(asset_prefix=ASSET_PREFIX, keep_stderr=False), SlideMetadata()]
        if kind == "slides"
        else [StaticOutputs(asset_prefix=ASSET_PREFIX)]
    )
    exporter = cls(
        template_name=template,
        extra_template_basedirs=[str(TEMPLATES)],
        embed_images=True,
        preprocessors=steps,
    )
    for name, url in exporter_urls(ASSET_PREFIX).items():
        if exporter.has_trait(name):
            setattr(exporter, name, url)
    if kind == "slides":
        exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
        exporter.reveal_scroll = False  # tall slides are shrunk to fit instead (the template)
        exporter.reveal_theme = "white"  # its fonts ship with reveal.js (others load Google Fonts)
        exporter.reveal_number = "c/t"
    return exporter


def _read(path: Path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def export_slides(nb, out_file: Path, exporter=None) -> Path:
    """Write reveal.js slides of ``nb`` (a notebook) with automatic slide metadata."""
    import nbformat

    body, _ = (exporter or _exporter("slides")).from_notebook_node(nbformat.from_dict(nb))
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(body, encoding="utf-8")
    return out_file


def export_page(nb, out_file: Path, nav_html: str = "", exporter=None) -> Path:
    """Write the HTML page of ``nb``, with an optional link bar on top."""
    import nbformat

    body, _ = (exporter or _exporter("page")).from_notebook_node(
        nbformat.from_dict(nb), resources={"companion_nav": nav_html}
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(body, encoding="utf-8")
    return out_file


@contextmanager
def _kernel_environment() -> Iterator[None]:
    """``COMPANION_STATIC_SLIDERS=1`` and no ``MPLBACKEND`` (Agg would leave the executed notebooks
    no figures) for the kernels started inside; the previous values are restored after."""
    names = (STATIC_SLIDERS_ENV, "MPLBACKEND")
    saved = {name: os.environ.get(name) for name in names}
    os.environ[STATIC_SLIDERS_ENV] = "1"
    os.environ.pop("MPLBACKEND", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(paths: Sequence[Path], *, smoke: bool, out_dir: Path) -> list[BuiltNotebook]:
    """Run every notebook with papermill; a failure is recorded, the rest still run.

    The kernels inherit ``COMPANION_STATIC_SLIDERS=1``: every slider pre-renders its frames.
    """
    built, results = [], []
    with _kernel_environment():
        for path in paths:
            print(f"executing {path.name}{' (smoke)' if smoke else ''} …", flush=True)
            result = nbtools.run_notebook(path, out_dir, smoke=smoke)
            if result.error:
                print(f"  FAILED {result.error}", file=sys.stderr, flush=True)
            executed = result.output if result.output.exists() else path
            built.append(BuiltNotebook(path, executed, result.error, result.seconds))
            results.append(result)
    print(nbtools.format_table(results), flush=True)
    return built


def build(
    kind: str,
    names: Sequence[str] = (),
    *,
    smoke: bool = False,
    run: bool = True,
    out: Path = DEFAULT_OUT,
    notebook_root: Path | None = None,
) -> list[BuiltNotebook]:
    """Build ``"slides"`` or the whole ``"site"`` under ``out``; return what was built."""
    if kind not in ("slides", "site"):
        raise ValueError(f"kind must be 'slides' or 'site', not {kind!r}")
    out = Path(out)
    paths = nbtools.notebook_paths(names, root=notebook_root)
    install_assets(out)
    if run:
        executed_dir = ROOT / "build" / ("executed-smoke" if smoke else "executed")
        notebooks = execute(paths, smoke=smoke, out_dir=executed_dir)
    else:
        notebooks = [BuiltNotebook(p, p) for p in paths]
    slides, pages = _exporter("slides"), _exporter("page") if kind == "site" else None
    for item in notebooks:
        nb = _read(item.executed)
        files = [export_slides(nb, out / "slides" / f"{item.stem}.slides.html", slides)]
        if pages is not None:
            target = out / "notebooks" / f"{item.stem}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(without_frames(nb), indent=1, ensure_ascii=False), encoding="utf-8"
            )
            files += [
                export_page(
                    nb,
                    out / "notebooks" / f"{item.stem}.html",
                    front_page.nav_html(item.path.name),
                    pages,
                ),
                target,
            ]
        sizes = ", ".join(
            f"{kind} {_mb(f.stat().st_size)}"
            for kind, f in zip(("slides", "page", ".ipynb"), files)
        )
        print(f"  built {item.stem}: {sizes}", flush=True)
    if kind == "site":
        mode = (
            "notebooks shown as stored, not executed"
            if not run
            else f"notebooks executed in {'smoke' if smoke else 'default'} mode"
        )
        front_page.write(out / "index.html", notebooks, mode=mode)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {_mb(total)} in all", flush=True)
    return notebooks


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; notebook names may come before or after the options
    (``make site SMOKE=1 SITE_ARGS="5.3.4"`` runs ``site --smoke 5.3.4``)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.site",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", choices=["slides", "site"])
    parser.add_argument("names", nargs="*", help="notebook names or prefixes (default: all)")
    parser.add_argument("--smoke", action="store_true", help="execute with smoke=True (fast)")
    parser.add_argument(
        "--no-execute",
        dest="run",
        action="store_false",
        help="export the notebooks as stored, without running them",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="site folder")
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        help="folder of notebooks (default: the repository's notebooks/)",
    )
    return parser.parse_intermixed_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        built = build(
            args.kind,
            args.names,
            smoke=args.smoke,
            run=args.run,
            out=args.out,
            notebook_root=args.notebooks,
        )
    except (ValueError, AssetsMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [b for b in built if b.error]
    where = args.out / ("index.html" if args.kind == "site" else "slides")
    print(f"{len(built) - len(failed)} of {len(built)} notebooks built: {where.resolve()}")
    for b in failed:
        print(f"FAILED {b.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
