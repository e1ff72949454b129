"""Fast checks of the slides/site build (tools/): slide metadata, offline outputs, asset paths."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import unavailable

from companion import notebooks as nbtools
from tools import front_page
from tools.offline_assets import COLAB_BADGE, PACKAGES, exporter_urls, install_assets
from tools.site import ASSET_PREFIX, export_page, export_slides
from tools.slide_metadata import FIGURE_TAG, assign_slide_metadata, is_header_cell
from tools.static_outputs import WIDGET_VIEW, prepare_for_export

ROOT = Path(__file__).resolve().parent.parent
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5Erk"
    "Jggg=="
)


def _md(text, **meta):
    return nbformat.v4.new_markdown_cell(text, metadata=meta)


def _code(text, outputs=(), **meta):
    cell = nbformat.v4.new_code_cell(text, metadata=meta)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def _figure():
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": PNG, "text/plain": "<Figure>"},
    }


def _widget(text):
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": text,
        },
    }


@pytest.fixture
def lecture(tmp_path):
    """A notebook with the standard header cells plus typical lecture content."""
    path = nbtools.new_notebook("5.9-demo", "Demo", "演示", root=tmp_path)
    nb = nbformat.read(str(path), as_version=4)
    nb.cells += [
        _md("## The context vector（上下文向量）\n\n$$c = q(h_1, \\dots, h_T) \\tag{5-18}$$"),
        _code("print(1)", [{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
        _code("plot()", [_figure()]),
        _md("### A detail"),
        _code("\n".join(f"x{i} = {i}" for i in range(20))),
        _md("Speaker hint", slideshow={"slide_type": "notes"}),
        _code(
            "draw()\ninteract(draw)",
            [_figure(), _widget("interactive(children=(FloatSlider(value=1.0),))")],
        ),
        _code(
            "train()",
            [
                {"output_type": "stream", "name": "stderr", "text": "100%|██| 3/3\n"},
                _widget("  0%|          | 0/3 [00:00<?, ?it/s]"),
            ],
        ),
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def _types(nb):
    return [c.metadata.slideshow.slide_type for c in nb.cells]


def test_slide_types_follow_the_rules(lecture):
    types = _types(assign_slide_metadata(lecture))
    assert types[0] == "slide"  # title
    assert types[1:4] == ["skip", "skip", "skip"]  # Colab install, parameters, setup
    assert types[4] == "slide"  # "## ..." heading
    assert types[5] == "-"  # short code stays with its heading
    assert types[7] == "subslide"  # "### ..." heading
    assert types[8] == "subslide"  # 20 lines of code get their own sub-slide
    assert types[9] == "notes"  # the author's choice wins


def test_overflowing_cells_start_sub_slides_and_figures_get_a_size(lecture):
    nb = assign_slide_metadata(lecture)
    figure_cell = nb.cells[6]
    # heading, equation and printed output leave no room for a large figure: a new sub-slide
    assert figure_cell.metadata.slideshow.slide_type == "subslide"
    assert FIGURE_TAG + "l" in figure_cell.metadata.tags
    widget_cell = nb.cells[10]
    assert [t for t in widget_cell.metadata.tags if t.startswith(FIGURE_TAG)] != []


def test_author_slide_metadata_is_kept_and_header_cells_recognised(lecture):
    lecture.cells[5].metadata["slideshow"] = {"slide_type": "fragment"}
    assert _types(assign_slide_metadata(lecture))[5] == "fragment"
    assert is_header_cell(lecture.cells[1]) and is_header_cell(lecture.cells[2])
    assert not is_header_cell(lecture.cells[5])


def test_only_skipped_cells_still_make_a_title_slide():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code("x = 1", tags=["parameters"]), _md("# Title")]
    assert _types(assign_slide_metadata(nb)) == ["skip", "slide"]


def test_outputs_become_static_and_offline(lecture):
    page = prepare_for_export(lecture, "../assets")
    slides = prepare_for_export(lecture, "../assets", keep_stderr=False)
    assert "widgets" not in page["metadata"]
    assert f"../assets/{COLAB_BADGE}" in page["cells"][0]["source"]
    assert (
        "colab-badge.svg)](https://colab.research.google.com/github/" in page["cells"][0]["source"]
    )
    widget_outputs = page["cells"][10]["outputs"]
    assert [set(o["data"]) for o in widget_outputs] == [
        {"image/png", "text/plain"},
        {"text/html", "text/plain"},
    ]
    assert "Interactive control" in widget_outputs[1]["data"]["text/html"]
    assert [o["output_type"] for o in page["cells"][11]["outputs"]] == [
        "stream"
    ]  # tqdm widget gone
    assert slides["cells"][11]["outputs"] == []  # and stderr too
    assert WIDGET_VIEW in lecture.cells[10].outputs[1].data  # the input is left alone


def test_exporter_urls_are_relative():
    urls = exporter_urls(ASSET_PREFIX)
    assert all(url.startswith("../assets/") for url in urls.values())


def _fake_node_modules(root: Path) -> Path:
    for package, parts in PACKAGES.items():
        for part in parts:
            path = root / package / part
            if Path(part).suffix:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("/* stand-in */")
            else:
                path.mkdir(parents=True, exist_ok=True)
                (path / "stand-in.txt").write_text("x")
    return root


LOCAL_REF = re.compile(r'(?:src|href)="(\.\./assets/[^"?#]+)')
REMOTE_LOAD = re.compile(r'<(?:script|link|img)[^>]+(?:src|href)="https?://')


def test_pages_and_slides_load_everything_from_local_assets(lecture, tmp_path):
    site = tmp_path / "site"
    install_assets(site, _fake_node_modules(tmp_path / "node_modules"))
    slides = export_slides(lecture, site / "slides" / "demo.slides.html")
    page = export_page(
        lecture, site / "notebooks" / "demo.html", front_page.nav_html("5.9-demo.ipynb")
    )
    for html_file in (slides, page):
        html = html_file.read_text(encoding="utf-8")
        assert not REMOTE_LOAD.search(html), REMOTE_LOAD.search(html).group(0)
        refs = set(LOCAL_REF.findall(html))
        assert refs, "no local assets referenced"
        missing = [r for r in refs if not (html_file.parent / r).exists()]
        assert missing == [], f"{html_file.name} points at assets that install_assets did not copy"
    slides_html = slides.read_text(encoding="utf-8")
    assert "../assets/reveal.js/dist/reveal.js" in slides_html
    assert "MathJax.js?config=TeX-AMS_CHTML-full,Safe" in slides_html
    assert "celltag_slide-figure-" in slides_html
    assert "mermaid" not in slides_html and "mermaid" not in page.read_text(encoding="utf-8")
    assert 'href="../index.html"' in page.read_text(encoding="utf-8")


def test_npm_packages_hold_every_copied_path():
    node_modules = ROOT / "node_modules"
    if not (node_modules / "mathjax").is_dir():
        unavailable("node_modules not installed (`npm ci`); .ci/run installs it")
    missing = [
        f"{p}/{part}"
        for p, parts in PACKAGES.items()
        for part in parts
        if not (node_modules / p / part).exists()
    ]
    assert missing == [], "package.json versions moved these files; update tools/offline_assets.py"
    version = json.loads((node_modules / "reveal.js" / "package.json").read_text())["version"]
    assert version.split(".")[0] in ("4", "5"), "nbconvert's slides need reveal.js 4.x or 5.x"


def test_front_page_lists_sections_links_and_failures(tmp_path):
    a = nbtools.new_notebook("5.1-basics", "Basics", "基础", root=tmp_path)
    b = nbtools.new_notebook("5.3.5-bleu", "BLEU", "评价指标", root=tmp_path)
    built = [
        SimpleNamespace(path=a, error=""),
        SimpleNamespace(path=b, error="cell 5 raised ValueError"),
    ]
    html = front_page.write(tmp_path / "index.html", built, mode="smoke").read_text(
        encoding="utf-8"
    )
    assert "5.1 Encoder–decoder basics" in html and "5.3 Encoder–decoders in NLP" in html
    assert (
        'href="notebooks/5.1-basics.html"' in html
        and 'href="slides/5.3.5-bleu.slides.html"' in html
    )
    assert nbtools.colab_url("5.3.5-bleu.ipynb") in html
    assert "execution failed: cell 5 raised ValueError" in html
    assert front_page.notebook_title(b) == "BLEU（评价指标）"
    assert front_page.chapter_section("5.3.5-bleu.ipynb") == "5.3"


def test_cli_rejects_unknown_notebooks(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.site",
            "site",
            "0.0-none",
            "--notebooks",
            str(tmp_path),
            "--out",
            str(tmp_path / "site"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and "no notebook matches" in result.stderr


# ``make site`` / ``make slides`` lines that README.md, CONTRIBUTING.md and docs/ show a reader.
MAKE_LINE = re.compile(r'make (site|slides)((?: +[A-Z_]+=(?:"[^"]*"|[^\s`]+))*)')


def _documented_make_commands() -> list[str]:
    paths = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "".join(path.read_text(encoding="utf-8") for path in paths)
    return sorted({m.group(0).strip() for m in MAKE_LINE.finditer(text)})


def test_every_documented_make_command_parses():
    import shlex

    from tools.site import parse_args

    commands = _documented_make_commands()
    assert any("SITE_ARGS" in c and "SMOKE=1" in c for c in commands) or len(commands) >= 3, (
        commands
    )
    for command in commands + ['make site SMOKE=1 SITE_ARGS="5.3.4"']:
        dry_run = subprocess.run(
            shlex.split(command) + ["-n"], capture_output=True, text=True, cwd=ROOT
        )
        lines = [line for line in dry_run.stdout.splitlines() if "-m tools.site" in line]
        assert dry_run.returncode == 0 and lines, f"`{command} -n` printed no tools.site command"
        argv = shlex.split(lines[-1].split("-m tools.site", 1)[1])
        args = parse_args(argv)  # argparse exits (SystemExit) on an argument it does not know
        words = shlex.split(command)
        site_args = next((w.split("=", 1)[1] for w in words if w.startswith("SITE_ARGS=")), "")
        assert args.kind == words[1]
        assert args.smoke == ("SMOKE=1" in words)
        assert args.names == [w for w in site_args.split() if not w.startswith("-")]
        assert args.run == ("--no-execute" not in site_args)


# ------------------------------------------------------------------ static sliders


def _frames_output(n_a=3, n_b=2):
    from companion.widgets.sliders import FRAMES_MIME

    controls = [
        {
            "name": "a",
            "description": "noise",
            "labels": [f"{k / 10:.1f}" for k in range(n_a)],
            "default": 1,
        },
        {"name": "b", "description": "<b>", "labels": [str(k) for k in range(n_b)], "default": 0},
    ]
    images = [PNG, PNG[:-4] + "AAA=", PNG[:-8] + "AAAAAA=="]
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            FRAMES_MIME: {
                "controls": controls,
                "images": images,
                "frames": [k % 3 for k in range(n_a * n_b)],
                "format": "image/png",
            },
            "text/plain": "[frames]",
        },
    }


def test_a_frames_output_becomes_a_static_slider_in_place_of_figure_and_control():
    from tools.static_outputs import without_frames
    from tools.static_sliders import SLIDER_META

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _code(
            "show()\nslider_widget(f, a=..., b=...)",
            [
                {"output_type": "stream", "name": "stdout", "text": "example 3\n"},
                _figure(),
                _frames_output(),
                _widget("interactive(children=(FloatSlider(value=0.1),))"),
            ],
        )
    ]
    outputs = prepare_for_export(nb, "../assets")["cells"][0]["outputs"]
    assert [o.get("name") or o["metadata"].get(SLIDER_META) for o in outputs] == ["stdout", 2]
    html = outputs[1]["data"]["text/html"]
    assert html.count('type="range"') == 2 and 'max="2"' in html and 'max="1"' in html
    assert 'value="1"' in html and ">0.1</output>" in html  # starts at the default, labelled
    assert '<span class="companion-slider-name">&lt;b&gt;</span>' in html  # descriptions escaped
    images = _frames_output()["data"]["application/vnd.companion.slider-frames+json"]["images"]
    assert f'src="data:image/png;base64,{images[2]}"' in html  # position (1, 0) = frame 1·2 + 0
    slid = assign_slide_metadata(nbformat.from_dict(prepare_for_export(nb, "../assets")))
    assert any(t.startswith(FIGURE_TAG) for t in slid.cells[0].metadata.tags)
    kept = without_frames(nb)["cells"][0]["outputs"]
    assert len(kept) == 3 and all("[frames]" not in str(o) for o in kept)


def test_a_text_box_keeps_its_default_figure_and_says_it_needs_a_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _code("translator()", [_figure(), _widget("interactive(children=(Text(value='hi'),))")])
    ]
    outputs = prepare_for_export(nb, "../assets")["cells"][0]["outputs"]
    assert "image/png" in outputs[0]["data"]
    assert "Text box" in outputs[1]["data"]["text/html"]


def test_slider_frames_must_match_their_controls():
    from tools.static_sliders import slider_html

    frames = _frames_output()["data"]
    payload = dict(next(v for k, v in frames.items() if k != "text/plain"))
    payload["frames"] = payload["frames"][:-1]
    with pytest.raises(ValueError, match="do not match"):
        slider_html(payload)


def test_long_markdown_cells_are_cut_at_headings_and_paragraphs():
    from tools.slide_metadata import MARKDOWN_PIECE_LINES, split_markdown

    items = "\n".join(f"* item {k}: " + "a long line of words " * 4 for k in range(30))
    source = (
        "The verdict:\n\n" + items + "\n\n## Next section\n\n$$\na\n\nb\n$$\n\n"
        "```python\nx = 1\n\ny = 2\n```\n\n### A detail\n\nShort."
    )
    cell = _md(source)
    cell["id"] = "abc"
    pieces = split_markdown(cell)
    texts = [p["source"] for p in pieces]
    assert "\n\n".join(texts).split() == source.split()  # nothing lost or reordered
    assert [t.split("\n", 1)[0] for t in texts if t.startswith("#")] == [
        "## Next section",
        "### A detail",
    ]
    assert any(t.startswith("* item") for t in texts)  # the list was cut at an item
    assert any("$$\na\n\nb\n$$" in t for t in texts)  # maths stays whole
    assert any("x = 1\n\ny = 2" in t for t in texts)  # and so does code
    assert len({p["id"] for p in pieces}) == len(pieces)
    from tools.slide_metadata import _text_lines

    assert all(
        1.2 * _text_lines(t, 70) <= MARKDOWN_PIECE_LINES + 3 for t in texts if t.startswith("*")
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [_md("# Title"), cell]
    types = _types(assign_slide_metadata(nb))
    heads = [k for k, c in enumerate(nb.cells) if c.source.startswith("## Next")]
    assert types[heads[0]] == "slide" and "subslide" in types
    authored = _md(source, slideshow={"slide_type": "slide"})
    assert split_markdown(authored) == [authored]  # an author's cell stays whole


def test_a_code_cell_too_tall_for_a_slide_shows_its_outputs_on_the_next():
    from tools.slide_metadata import split_code

    long_print = {
        "output_type": "stream",
        "name": "stdout",
        "text": "".join(f"row {k}\n" for k in range(9)),
    }
    tall = _code("\n".join(f"step_{k}()" for k in range(12)), [long_print, _figure()])
    short = _code("a = 1\nb = 2\nc = 3\nplot()", [_figure()])
    code, outputs = split_code(tall)
    assert code["outputs"] == [] and code["source"] == tall["source"]
    assert (
        outputs["outputs"] == tall["outputs"] and outputs["metadata"]["transient"]["remove_source"]
    )
    assert split_code(short) == [short]
    nb = nbformat.v4.new_notebook()
    nb.cells = [_md("# Title"), _md("## Section"), tall]
    assign_slide_metadata(nb)
    assert len(nb.cells) == 4 and _types(nb)[3] == "subslide"
    html = export_slides(nb, Path(tempfile.mkdtemp()) / "deck.slides.html").read_text(
        encoding="utf-8"
    )
    assert html.count("step_11") == 1 and html.count("row 8") == 1  # code once, outputs once


def test_the_export_steps_are_nbconvert_preprocessors_that_run_before_reveals():
    from nbconvert.exporters.slides import _RevealMetadataPreprocessor

    from tools.site import _exporter
    from tools.slide_metadata import SlideMetadata
    from tools.static_outputs import StaticOutputs

    slides = [type(p) for p in _exporter("slides")._preprocessors if p.enabled]
    assert slides.index(StaticOutputs) < slides.index(SlideMetadata)
    assert slides.index(SlideMetadata) < slides.index(_RevealMetadataPreprocessor)
    page = [type(p) for p in _exporter("page")._preprocessors if p.enabled]
    assert StaticOutputs in page and SlideMetadata not in page
