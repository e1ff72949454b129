"""Real-browser checks in headless Chromium (Debian's ``chromium``) driven by Python Playwright.

1. JupyterLab: open the beam-search notebook (until it exists, another notebook with a slider, or a
   tiny one made here), run all cells in smoke mode, drag a slider, and see the plot change.
2. Offline slides: reveal.js slides built by tools/site.py, opened from disk with every non-local
   request blocked, must typeset their equations with the local MathJax.
3. A site built in both languages: the static sliders move on the pages and decks; the Chinese
   page and deck (lang="zh-CN") work offline and link to their English twins, and each front
   page to the other; no slide of any deck is taller than reveal's frame.

Both skip with a reason when Chromium or Playwright is missing, except under CI (``CI`` set),
where .ci/run installs them and a skip would hide a broken set-up.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import unavailable

from companion import notebooks as nbtools

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_PREFIXES = ("file://", "data:", "blob:", "about:", "http://127.0.0.1", "ws://127.0.0.1")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Playwright gives it a fresh
    temporary profile), or a skip naming what to install.
    """
    if not Path(CHROMIUM).exists():
        unavailable(
            f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` "
            f"(or set CHROMIUM=/path/to/chromium) to run the browser tests"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("python package playwright is missing: `pip install -e .[browser]`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _offline_page(browser, blocked: list[str]):
    """A new page whose requests to anything but this machine are aborted (and recorded)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    def route(r):
        if r.request.url.startswith(LOCAL_PREFIXES):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.set_default_timeout(30_000)
    return page


# ------------------------------------------------------------------ JupyterLab and a slider

SLIDER_NOTEBOOK = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

def draw(freq=1.0):
    x = np.linspace(0, 6, 200)
    fig, ax = plt.subplots(figsize=(5, 2.5))
    ax.plot(x, np.sin(freq * x))
    ax.set_title(f"freq = {freq:.1f}")
    plt.show()

draw()  # the static default figure
widgets.interact(draw, freq=widgets.FloatSlider(value=1.0, min=0.5, max=3.0, step=0.5));"""


def _existing_notebooks() -> list[Path]:
    try:
        return nbtools.notebook_paths()
    except ValueError:  # no notebooks/ folder yet
        return []


def slider_notebook(tmp_path: Path) -> Path:
    """The beam-search notebook when it exists, else any notebook with a slider, else a tiny one."""
    every = _existing_notebooks()
    beam = [p for p in every if "beam" in p.name]
    with_slider = [
        p for p in every if re.search(r"Slider\(|_slider\(", p.read_text(encoding="utf-8"))
    ]
    if beam or with_slider:
        return (beam or with_slider)[0]
    path = nbtools.new_notebook("0.0-slider", "Slider", "滑块", root=tmp_path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": SLIDER_NOTEBOOK,
        }
    )
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _smoke_copy(source: Path, folder: Path) -> Path:
    """A copy of ``source`` with ``smoke = True`` set
    right after its parameters cell, as papermill does.
    """
    nb = json.loads(source.read_text(encoding="utf-8"))
    cells = nb["cells"]
    tagged = [
        i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])
    ]
    at = tagged[0] + 1 if tagged else 0
    cells.insert(
        at,
        {
            "cell_type": "code",
            "metadata": {"tags": ["injected-parameters"]},
            "outputs": [],
            "execution_count": None,
            "source": 'smoke = True\ndevice = "cpu"',
        },
    )
    target = folder / source.name
    target.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on 127.0.0.1 (free port, no token)
    serving ``tmp_path/lab``; stopped at the end.
    """
    lab_root = tmp_path / "lab"
    lab_root.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }  # no user kernels: only this Python's
    env.pop("MPLBACKEND", None)  # the tests' Agg would hide every figure in the kernel
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={lab_root}",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "JupyterLab did not start:\n"
                        + (tmp_path / "jupyterlab.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
        yield url, lab_root
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


# What the slider's cell shows besides its controls: images and printed text of its outputs.
CELL_OUTPUT_JS = """(cell) => Array.from(cell.querySelectorAll(
    '.jp-OutputArea-output img, .jp-OutputArea-output pre, .jp-OutputArea-output svg'))
  .filter((el) => !el.closest('.widget-slider, .widget-readout'))
  .map((el) => el.src || el.textContent).join('\\n')"""
STARTED_JS = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
  .some((p) => /\\[(\\d+|\\*)\\]/.test(p.textContent))"""
ALL_RUN_JS = """() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
  .every((p) => /\\[\\d+\\]/.test(p.textContent))"""


def _choose_python3(dialog) -> None:
    """Answer JupyterLab's "Select Kernel" dialog with this Python's own kernel."""
    select = dialog.locator("select")
    if select.count():
        labels = select.first.locator("option").all_inner_texts()
        ours = [label for label in labels if label.startswith("Python 3")]
        if ours:
            select.first.select_option(label=ours[0])
    dialog.locator(".jp-mod-accept").first.click()


def _run_all_cells(page, timeout: float) -> None:
    """Run every cell of the open notebook (answering a "Select Kernel" dialog if one comes)."""
    page.locator(".jp-Notebook .jp-Cell").first.click()  # run-all acts on the focused notebook
    run_all = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    page.evaluate(run_all)
    start = time.monotonic()
    deadline, retried = start + timeout, False
    while not page.evaluate(ALL_RUN_JS):
        if not retried and time.monotonic() > start + 15 and not page.evaluate(STARTED_JS):
            page.evaluate(run_all)  # the first request came before the notebook was ready
            retried = True
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and dialog.first.is_visible():
            _choose_python3(dialog.first)
        if time.monotonic() > deadline:
            BUILD.mkdir(exist_ok=True)
            page.screenshot(path=str(BUILD / "browser-widget.png"))
            pytest.fail(f"cells still running after {timeout} s (see build/browser-widget.png)")
        page.wait_for_timeout(500)


def test_jupyterlab_slider_changes_the_plot(browser, jupyterlab, tmp_path):
    url, lab_root = jupyterlab
    notebook = _smoke_copy(slider_notebook(tmp_path), lab_root)
    blocked: list[str] = []
    page = _offline_page(browser, blocked)
    page.goto(f"{url}/lab/tree/{notebook.name}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands", timeout=60_000)
    page.wait_for_timeout(1000)  # a "Select Kernel" dialog may come on first open
    if page.locator(".jp-Dialog").count():
        _choose_python3(page.locator(".jp-Dialog").first)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    _run_all_cells(page, timeout=180)
    errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, f"{notebook.name} raised:\n{errors.first.inner_text()[:2000]}"

    news = page.get_by_role("button", name="No", exact=True)  # the "Jupyter news?" toast
    if news.count():
        news.first.click()
    sliders = page.locator(".jp-OutputArea .widget-slider")
    beam_slider = sliders.filter(has_text="beam")  # the beam-width slider when the notebook has one
    slider = (beam_slider if beam_slider.count() else sliders).first
    slider.wait_for(state="visible", timeout=30_000)
    cell = slider.locator("xpath=ancestor::div[contains(@class, 'jp-CodeCell')]").first
    cell.scroll_into_view_if_needed()
    page.wait_for_function(
        f"(cell) => ({CELL_OUTPUT_JS})(cell) !== ''", arg=cell.element_handle(), timeout=30_000
    )  # the widget's first figure
    before = cell.evaluate(CELL_OUTPUT_JS)

    handle = slider.locator(".noUi-handle").first
    track_locator = slider.locator(".noUi-target, .slider").first
    handle.scroll_into_view_if_needed()
    box, track = handle.bounding_box(), track_locator.bounding_box()
    handle_at = (box["x"] + box["width"] / 2 - track["x"]) / track["width"]
    target = 0.15 if handle_at > 0.5 else 0.85  # drag away from where the default sits
    # drag_to scrolls both ends into view and reads their positions at the moment of the drag:
    # JupyterLab's windowed notebook may move cells between a bounding_box() and a mouse move.
    handle.drag_to(
        track_locator, target_position={"x": target * track["width"], "y": track["height"] / 2}
    )
    try:
        page.wait_for_function(
            f"([cell, before]) => ({CELL_OUTPUT_JS})(cell) !== before",
            arg=[cell.element_handle(), before],
            timeout=60_000,
        )
    except Exception:
        BUILD.mkdir(exist_ok=True)
        page.screenshot(path=str(BUILD / "browser-widget.png"))
        raise
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.wait_for_timeout(500)
    BUILD.mkdir(exist_ok=True)
    slider.scroll_into_view_if_needed()
    page.screenshot(path=str(BUILD / "browser-widget.png"))
    assert cell.evaluate(CELL_OUTPUT_JS) != before
    page.close()


# ------------------------------------------------------------------ offline slides

EQUATION_CELL = (
    "## The decoder（解码器）\n\n"
    "$$p(y \\mid x) = \\prod_{t=1}^{T'} p(y_t \\mid y_{<t}, c) \\tag{5-20}$$"
)


def _slides_notebook(tmp_path: Path) -> Path:
    """The first notebook with an equation, or a tiny one with the decoder's factorisation."""
    for path in _existing_notebooks():
        if "$$" in path.read_text(encoding="utf-8"):
            return path
    path = nbtools.new_notebook("0.0-equation", "Equation", "公式", root=tmp_path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": EQUATION_CELL})
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_offline_slides_render_equations_without_network(browser, tmp_path):
    import nbformat

    from tools.offline_assets import AssetsMissing, install_assets
    from tools.site import export_slides

    site = tmp_path / "site"
    try:
        install_assets(site)
    except AssetsMissing as exc:
        unavailable(f"no offline assets: {exc}")
    source = _slides_notebook(tmp_path)
    slides = export_slides(
        nbformat.read(str(source), as_version=4), site / "slides" / f"{source.stem}.slides.html"
    )

    blocked: list[str] = []
    page = _offline_page(browser, blocked)
    page.goto(slides.as_uri())
    page.wait_for_selector(".reveal.ready", timeout=30_000)  # reveal.js came from assets/
    page.wait_for_function(
        "() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
        " && document.querySelectorAll('.MathJax_CHTML').length > 0",
        timeout=30_000,
    )
    rendered = page.locator(".MathJax_CHTML").count()
    raw_tex = page.evaluate(
        "() => Array.from(document.querySelectorAll('.jp-MarkdownOutput'))"
        ".filter((el) => el.textContent.includes('$$')).length"
    )
    for _ in range(40):  # go to the first slide with an equation and keep its picture
        if page.locator("section.present .MathJax_CHTML").count():
            break
        page.keyboard.press("Space")
        page.wait_for_timeout(150)
    page.wait_for_timeout(1200)  # let the slide transition finish
    BUILD.mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / "browser-slides.png"))
    page.close()
    assert rendered > 0, "MathJax typeset no equation"
    assert raw_tex == 0, f"{raw_tex} markdown cells still show raw $$ TeX"
    assert blocked == [], f"the slides asked the network for {blocked}"


# ------------------------------------------------------------------ static sliders, slides that fit

STATIC_SLIDER_CELL = """\
import matplotlib.pyplot as plt
from ipywidgets import FloatSlider, IntSlider
from companion.widgets import slider_widget

def wave(freq, phase):
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([k / 20 for k in range(41)], [((k * freq + phase) % 7) / 7 for k in range(41)])
    ax.set_title(f"freq {freq:.1f}, phase {phase}")
    return fig

wave(1.0, 2)
plt.show()
slider_widget(wave, freq=FloatSlider(value=1.0, min=0.5, max=3.0, step=0.5, description="freq"),
              phase=IntSlider(value=2, min=0, max=3, description="phase"))"""
TALL_CELL = (
    "## A table too long for one slide\n\n| k | k² |\n|---|---|\n"  # a table cannot be cut
    + "\n".join(f"| {k} | {k * k} |" for k in range(40))
)


def _chinese_edition(path: Path) -> None:
    """notebooks/zh/ for the notebook at ``path``, written by the real machinery (catalog, then
    companion.chinese_edition) with every markdown cell translated."""
    import shutil

    import polib

    from companion.chinese_edition import Layout, update

    root = path.parent.parent
    layout = Layout(
        english=path.parent,
        catalogs=root / "locale",
        package_catalog=root / "companion.po",
        package_dir=ROOT / "companion",
        glossary=ROOT / "GLOSSARY.md",
    )
    shutil.copy(ROOT / "companion" / "locale" / "zh_CN" / "LC_MESSAGES" / "companion.po", root)
    update(layout)
    catalog = polib.pofile(str(layout.catalog_path(path.name)))
    for entry in catalog:
        title, _, rest = entry.msgid.partition("\n")
        entry.msgstr = {
            "# 0.0 Static slider（静态滑块）": "# 0.0 静态滑块\n" + rest,
            "## A slider": "## 一个滑块",
            "## A table too long for one slide": "## 一页放不下的长表格\n" + rest,
        }[title]
    catalog.save(str(layout.catalog_path(path.name)))
    assert not update(layout).notebooks[path.name].pending


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """A site built by tools.site from a tiny notebook with a two-slider widget and a slide far
    taller than reveal's frame, in English and in Chinese: executed (smoke) with papermill, so the
    frames come from the kernel."""
    from tools.offline_assets import AssetsMissing
    from tools.site import build

    root = tmp_path_factory.mktemp("static-slider")
    path = nbtools.new_notebook("0.0-static-slider", "Static slider", "静态滑块", root=root / "nb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"] += [
        {"cell_type": "markdown", "metadata": {}, "source": "## A slider"},
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": STATIC_SLIDER_CELL,
        },
        {"cell_type": "markdown", "metadata": {}, "source": TALL_CELL},
    ]
    path.write_text(json.dumps(nb), encoding="utf-8")
    nbtools.clean_notebook(path)  # cell ids, which the Chinese catalog keys on
    _chinese_edition(path)
    try:
        built = build("site", [path.stem], smoke=True, out=root / "site", notebook_root=path.parent)
    except AssetsMissing as exc:
        unavailable(f"no offline assets: {exc}")
    assert [(b.language, b.error) for b in built] == [("en", ""), ("zh", "")]
    return root / "site", path.stem


DRAG_JS = """(box) => {
  const frame = box.querySelector('.companion-slider-frame');
  return {src: frame.src.slice(-200), frame: frame.getAttribute('data-frame'),
          labels: Array.from(box.querySelectorAll('.companion-slider-value'))
                    .map((o) => o.textContent)};
}"""


def _drag_static_slider(page) -> None:
    box = page.locator("[data-companion-slider]").first
    box.scroll_into_view_if_needed()
    before = box.evaluate(DRAG_JS)
    assert before["labels"] == ["1.00", "2"]  # the widget's defaults
    freq = box.locator("input[type=range]").first
    area = freq.bounding_box()
    page.mouse.move(area["x"] + 4, area["y"] + area["height"] / 2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] - 2, area["y"] + area["height"] / 2, steps=6)
    page.mouse.up()
    after = box.evaluate(DRAG_JS)
    assert after["labels"] == ["3.00", "2"], after["labels"]  # dragged to the right end
    assert after["src"] != before["src"] and after["frame"] != before["frame"]
    page.keyboard.press("ArrowLeft")  # the focused range input, not reveal, takes the key
    assert box.evaluate(DRAG_JS)["labels"] == ["2.50", "2"]


@pytest.mark.xdist_group("built-site")  # one worker builds the site once
def test_static_slider_moves_on_the_offline_page_and_deck(browser, built_site):
    site, stem = built_site
    for url in (site / "notebooks" / f"{stem}.html", site / "slides" / f"{stem}.slides.html"):
        blocked: list[str] = []
        page = _offline_page(browser, blocked)
        page.goto(url.as_uri())
        if "slides" in url.name:
            page.wait_for_selector(".reveal.ready")
            page.evaluate(
                "() => { const at = Reveal.getIndices(Reveal.getSlides().find("
                "(s) => s.querySelector('[data-companion-slider]'))); Reveal.slide(at.h, at.v); }"
            )
            page.wait_for_timeout(300)
        _drag_static_slider(page)
        BUILD.mkdir(exist_ok=True)
        kind = "deck" if "slides" in url.name else "page"
        page.screenshot(path=str(BUILD / f"browser-static-slider-{kind}.png"))
        page.close()
        assert blocked == [], f"{url.name} asked the network for {blocked}"


TWIN_JS = "() => ({lang: document.documentElement.lang, path: location.pathname})"
TEXT_JS = "() => document.body.textContent"  # as written (reveal's theme upper-cases headings)


@pytest.mark.xdist_group("built-site")  # one worker builds the site once
def test_chinese_page_and_deck_work_offline_and_link_to_the_english_twin(browser, built_site):
    """A reader of the Chinese edition: a page and a deck marked zh-CN, opened from disk, with
    Chinese prose; the slider moves; the link in the corner opens the same page or deck in
    English."""
    site, stem = built_site
    for kind, url, english in (
        ("page", site / "zh" / "notebooks" / f"{stem}.html", f"/notebooks/{stem}.html"),
        ("deck", site / "zh" / "slides" / f"{stem}.slides.html", f"/slides/{stem}.slides.html"),
    ):
        blocked: list[str] = []
        page = _offline_page(browser, blocked)
        page.goto(url.as_uri())
        assert page.evaluate(TWIN_JS)["lang"] == "zh-CN"
        if kind == "deck":
            page.wait_for_selector(".reveal.ready")
            page.evaluate(
                "() => { const at = Reveal.getIndices(Reveal.getSlides().find("
                "(s) => s.querySelector('[data-companion-slider]'))); Reveal.slide(at.h, at.v); }"
            )
            page.wait_for_timeout(300)
        assert "一个滑块" in page.evaluate(TEXT_JS)  # the translated heading
        assert "已预先渲染" in page.locator(".companion-slider-note").first.inner_text()
        _drag_static_slider(page)
        BUILD.mkdir(exist_ok=True)
        page.screenshot(path=str(BUILD / f"browser-zh-{kind}.png"))
        page.locator("a.companion-twin").first.click()
        page.wait_for_function(f"() => location.pathname.endsWith({english!r})")
        arrived = page.evaluate(TWIN_JS)
        assert arrived["lang"] == "en" and "/zh/" not in arrived["path"], arrived
        if kind == "deck":
            page.wait_for_selector(".reveal.ready")
        assert "A slider" in page.evaluate(TEXT_JS)
        page.close()
        assert blocked == [], f"{url.name} asked the network for {blocked}"


@pytest.mark.xdist_group("built-site")  # one worker builds the site once
def test_each_front_page_offers_the_other_language(browser, built_site):
    site, stem = built_site
    page = browser.new_page()
    page.goto((site / "index.html").as_uri())
    page.locator("a.companion-twin").first.click()
    page.wait_for_function("() => location.pathname.endsWith('/zh/index.html')")
    assert page.evaluate(TWIN_JS)["lang"] == "zh-CN"
    assert page.locator(f"a[href='notebooks/{stem}.html']").first.inner_text() == "静态滑块"
    page.locator("a.companion-twin").first.click()
    page.wait_for_function("() => !location.pathname.includes('/zh/')")
    assert page.evaluate(TWIN_JS)["lang"] == "en"
    page.close()


MEASURE_JS = """async () => {
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const frame = Reveal.getConfig().height, tall = [];
  const typeset = () => new Promise((done) => (window.MathJax && MathJax.Hub)
      ? MathJax.Hub.Queue(done) : requestAnimationFrame(done));
  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  const idle = async () => {  // typeset, fitted, and no longer changing size
    await typeset();
    if (!slide_now().querySelector('script[type^="math/tex"]')) return;
    let last = -1;  // MathJax may still be laying out this slide's formulas
    for (let i = 0; i < 40 && slide_now().scrollHeight !== last; i++) {
      last = slide_now().scrollHeight;
      await pause(100);
    }
  };
  const slide_now = () => Reveal.getCurrentSlide();
  const slides = Reveal.getSlides();
  for (const slide of slides) {
    const at = Reveal.getIndices(slide);
    Reveal.slide(at.h, at.v);
    await idle();
    const height = slide.scrollHeight;
    if (height > frame) tall.push({h: at.h, v: at.v, height});
    slide.dataset.measured = height;
  }
  const zooms = slides.map((s) => parseFloat(s.getAttribute('data-fit-zoom') || '1'));
  return {count: slides.length, tall, smallest: Math.min(...zooms),
          shrunk: zooms.filter((z) => z < 1).length};
}"""


@pytest.mark.xdist_group("built-site")  # one worker builds the site once
def test_every_slide_of_every_deck_fits_the_frame(browser, built_site, tmp_path):
    """Every notebook's deck (as stored: the slide breaks and prose) and the executed test deck,
    measured at 1280x720: no slide is taller than reveal's 700-px frame once shown."""
    from companion.chinese_edition import Layout, load_notebook_catalog, untranslated
    from tools.site import build

    site, stem = built_site
    build("slides", [], run=False, out=tmp_path / "site")
    decks = sorted((tmp_path / "site" / "slides").glob("*.slides.html"))
    layout = Layout.of_repository(ROOT)
    decks += [  # the Chinese decks whose prose is translated (the others repeat the English)
        tmp_path / "site" / "zh" / "slides" / f"{p.stem}.slides.html"
        for p in _existing_notebooks()
        if not untranslated(load_notebook_catalog(layout, p.name), p.stem)
    ]
    decks += [
        site / "slides" / f"{stem}.slides.html",
        site / "zh" / "slides" / f"{stem}.slides.html",
    ]
    report = {}
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    for deck in decks:
        page.goto(deck.as_uri())
        page.wait_for_selector(".reveal.ready", timeout=30_000)
        name = f"zh/{deck.name}" if deck.parent.parent.name == "zh" else deck.name
        report[name] = page.evaluate(MEASURE_JS)
    page.close()
    print(
        "\n".join(
            f"{name}: {r['count']} slides, {r['shrunk']} shrunk (smallest zoom {r['smallest']:.2f})"
            for name, r in report.items()
        )
    )
    assert report[f"{stem}.slides.html"]["shrunk"] >= 1  # the long table needed shrinking
    tall = {name: r["tall"] for name, r in report.items() if r["tall"]}
    assert tall == {}, f"slides taller than the frame: {tall}"
