"""Build the lecture slides and the static site of executed notebooks, both usable offline,
in English and in Chinese.

    python -m tools.site slides [NAMES...] [--smoke] [--no-execute] [--out DIR] [--language en|zh]
    python -m tools.site site   [NAMES...] [--smoke] [--no-execute] [--out DIR] [--language en|zh]

(``make slides`` / ``make site``; ``SMOKE=1`` adds ``--smoke``.) Each notebook is executed with
papermill (``companion.notebooks.run_notebook``), then exported with nbconvert, whose exporters
run the export steps as preprocessors (tools/static_outputs.py, tools/slide_metadata.py):

    build/site/index.html                 front page: book sections, links to pages, slides, Colab
    build/site/notebooks/NAME.html        the executed notebook as a page
    build/site/notebooks/NAME.ipynb       the executed notebook itself
    build/site/slides/NAME.slides.html    reveal.js slides (metadata from tools/slide_metadata.py)
    build/site/zh/…                       the same for the Chinese edition (notebooks/zh/)
    build/site/assets/                    reveal.js, MathJax, require.js, jQuery, Font Awesome

Both languages are built when notebooks/zh/ holds the Chinese twins (``--language`` picks one).
Every page and deck links to the same page or deck in the other language, and each front page to
the other; Chinese pages are marked ``lang="zh-CN"`` and their site words (links, notes, slider
captions) come from the package's catalog. The Chinese notebooks run their own code (the same
code, with ``language = "zh"``), so their exercise messages are Chinese.

Every page loads its scripts from ``assets/`` by relative URL, so the folder can be copied to a
USB stick and opened from disk in a classroom with no internet. The notebooks run with
``COMPANION_STATIC_SLIDERS=1``, so every slider pre-renders its frames and moves on the pages and
slides without a kernel (tools/static_sliders.py). The build prints the size of each notebook's
files and one line when no CJK font is installed (Chinese labels would be boxes); a slide taller
than reveal's frame is shrunk to fit when shown (the slides template).
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
from companion.i18n import using_language
from companion.widgets.sliders import STATIC_SLIDERS_ENV

from . import front_page
from .editions import EDITIONS, ENGLISH, Edition, set_html_lang, twin_href
from .offline_assets import AssetsMissing, exporter_urls, install_assets
from .slide_metadata import SlideMetadata
from .static_outputs import StaticOutputs, without_frames

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_OUT = ROOT / "build" / "site"
ASSET_PREFIX = ENGLISH.asset_prefix  # English pages and slides sit one folder below the root
NO_CJK_FONT = (
    "No CJK font found: Chinese labels in the figures will show as boxes; install one, e.g. "
    "`apt-get install fonts-noto-cjk`, and build again."
)


@dataclass
class BuiltNotebook:
    path: Path  # the source notebook
    executed: Path  # the notebook whose outputs are shown
    error: str = ""  # why execution failed ("" when it ran)
    seconds: float = 0.0
    language: str = "en"  # the edition it belongs to

    @property
    def stem(self) -> str:
        return self.path.stem


def _exporter(kind: str, asset_prefix: str = ASSET_PREFIX):
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
        [StaticOutputs(asset_prefix=asset_prefix, keep_stderr=False), SlideMetadata()]
        if kind == "slides"
        else [StaticOutputs(asset_prefix=asset_prefix)]
    )
    exporter = cls(
        template_name=template,
        extra_template_basedirs=[str(TEMPLATES)],
        embed_images=True,
        preprocessors=steps,
    )
    for name, url in exporter_urls(asset_prefix).items():
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


def _twin_link(href: str, edition: Edition) -> dict:
    return {"href": href, "name": edition.name, "lang": edition.html_lang}


def export_slides(
    nb,
    out_file: Path,
    exporter=None,
    *,
    edition: Edition = ENGLISH,
    twin: tuple[str, Edition] | None = None,
) -> Path:
    """Write reveal.js slides of ``nb`` (a notebook node) with automatic slide metadata.

    ``twin``: (relative URL, edition) of the same deck in the other language, linked in a corner.
    """
    import nbformat

    resources = {"companion_twin": _twin_link(*twin) if twin else None}
    body, _ = (exporter or _exporter("slides", edition.asset_prefix)).from_notebook_node(
        nbformat.from_dict(nb), resources=resources
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(set_html_lang(body, edition.html_lang), encoding="utf-8")
    return out_file


def export_page(
    nb, out_file: Path, nav_html: str = "", exporter=None, *, edition: Edition = ENGLISH
) -> Path:
    """Write the HTML page of ``nb``, with an optional link bar on top."""
    import nbformat

    body, _ = (exporter or _exporter("page", edition.asset_prefix)).from_notebook_node(
        nbformat.from_dict(nb), resources={"companion_nav": nav_html}
    )
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(set_html_lang(body, edition.html_lang), encoding="utf-8")
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


def execute(
    paths: Sequence[Path], *, smoke: bool, out_dir: Path, language: str = "en"
) -> list[BuiltNotebook]:
    """Run every notebook with papermill; a failure is recorded, the rest still run.

    The kernels inherit ``COMPANION_STATIC_SLIDERS=1``: every slider pre-renders its frames.
    """
    built, results = [], []
    with _kernel_environment():
        for path in paths:
            label = nbtools.repository_name(path)
            print(f"executing {label}{' (smoke)' if smoke else ''} …", flush=True)
            result = nbtools.run_notebook(path, out_dir, smoke=smoke)
            if result.error:
                print(f"  FAILED {result.error}", file=sys.stderr, flush=True)
            executed = result.output if result.output.exists() else path
            built.append(BuiltNotebook(path, executed, result.error, result.seconds, language))
            results.append(result)
    print(nbtools.format_table(results), flush=True)
    return built


def editions_of(paths: Sequence[Path], languages: Sequence[str] | None) -> list[Edition]:
    """The editions to build: those asked for, else English plus Chinese when notebooks/zh/
    holds the Chinese twin of every notebook chosen."""
    if languages:
        unknown = [lang for lang in languages if lang not in EDITIONS]
        if unknown:
            raise ValueError(f"unknown language {unknown}; choose from {sorted(EDITIONS)}")
        chosen = [EDITIONS[lang] for lang in languages]
    else:
        chosen = list(EDITIONS.values())
    missing = {
        edition.language: [p.name for p in paths if not _twin_path(p, edition).exists()]
        for edition in chosen
    }
    for language, names in missing.items():
        if names and languages:
            folder = _twin_path(paths[0], EDITIONS[language]).parent
            raise ValueError(
                f"no {language} edition of {names} in {folder} "
                "(run `python -m companion.notebooks translate`)"
            )
    return [e for e in chosen if not missing[e.language]]


def _twin_path(path: Path, edition: Edition) -> Path:
    """The notebook of ``edition`` whose English notebook is ``path``."""
    return edition.notebooks(Path(path).parent) / Path(path).name


def cjk_font_line() -> str | None:
    """The one line printed when the machine has no CJK font for the figures' Chinese labels."""
    from companion.plot.fonts import find_cjk_font

    return None if find_cjk_font() else NO_CJK_FONT


def build(
    kind: str,
    names: Sequence[str] = (),
    *,
    smoke: bool = False,
    run: bool = True,
    out: Path = DEFAULT_OUT,
    notebook_root: Path | None = None,
    languages: Sequence[str] | None = None,
) -> list[BuiltNotebook]:
    """Build ``"slides"`` or the whole ``"site"`` under ``out`` in each language; return what was
    built (the English notebooks first)."""
    if kind not in ("slides", "site"):
        raise ValueError(f"kind must be 'slides' or 'site', not {kind!r}")
    out = Path(out)
    paths = nbtools.notebook_paths(names, root=notebook_root)
    editions = editions_of(paths, languages)
    install_assets(out)
    line = cjk_font_line()
    if line:
        print(line, flush=True)
    built: dict[str, list[BuiltNotebook]] = {}
    for edition in editions:
        sources = [_twin_path(p, edition) for p in paths]
        if run:
            executed_dir = ROOT / "build" / ("executed-smoke" if smoke else "executed")
            notebooks = execute(
                sources,
                smoke=smoke,
                out_dir=executed_dir / edition.folder if edition.folder else executed_dir,
                language=edition.language,
            )
        else:
            notebooks = [BuiltNotebook(p, p, language=edition.language) for p in sources]
        built[edition.language] = notebooks
    for edition in editions:
        twin = next((e for e in editions if e is not edition), None)
        with using_language(edition.language):
            _export_edition(kind, edition, twin, built[edition.language], out, smoke, run)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {_mb(total)} in all", flush=True)
    return [item for edition in editions for item in built[edition.language]]


def _export_edition(
    kind: str,
    edition: Edition,
    twin: Edition | None,
    notebooks: list[BuiltNotebook],
    out: Path,
    smoke: bool,
    run: bool,
) -> None:
    root = edition.root(out)
    slides = _exporter("slides", edition.asset_prefix)
    pages = _exporter("page", edition.asset_prefix) if kind == "site" else None
    for item in notebooks:
        nb = _read(item.executed)
        deck_twin = (twin_href("slides", item.stem, edition, twin), twin) if twin else None
        files = [
            export_slides(
                nb,
                root / "slides" / f"{item.stem}.slides.html",
                slides,
                edition=edition,
                twin=deck_twin,
            )
        ]
        if pages is not None:
            target = root / "notebooks" / f"{item.stem}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                json.dumps(without_frames(nb), indent=1, ensure_ascii=False), encoding="utf-8"
            )
            files += [
                export_page(
                    nb,
                    root / "notebooks" / f"{item.stem}.html",
                    front_page.nav_html(item.path.name, twin),
                    pages,
                    edition=edition,
                ),
                target,
            ]
        sizes = ", ".join(
            f"{kind} {_mb(f.stat().st_size)}"
            for kind, f in zip(("slides", "page", ".ipynb"), files, strict=False)
        )
        label = f"{edition.folder}/{item.stem}" if edition.folder else item.stem
        print(f"  built {label}: {sizes}", flush=True)
    if kind == "site":
        from companion.i18n import _

        if not run:
            mode = _("notebooks shown as stored, not executed")
        elif smoke:
            mode = _("notebooks executed in smoke mode")
        else:
            mode = _("notebooks executed in default mode")
        front_page.write(root / "index.html", notebooks, mode=mode, twin=twin)


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
        "--language",
        dest="languages",
        action="append",
        choices=sorted(EDITIONS),
        help="build only this language (repeatable; default: English, and Chinese when "
        "notebooks/zh/ holds the Chinese twins)",
    )
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
            languages=args.languages,
        )
    except (ValueError, AssetsMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [b for b in built if b.error]
    where = args.out / ("index.html" if args.kind == "site" else "slides")
    languages = ", ".join(dict.fromkeys(EDITIONS[b.language].name for b in built))
    print(
        f"{len(built) - len(failed)} of {len(built)} notebooks built ({languages}): "
        f"{where.resolve()}"
    )
    for b in failed:
        print(f"FAILED {b.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
