"""Chinese in figures: ``companion.setup()`` turns the CJK font on, so every figure of the package
draws Chinese labels without a missing glyph (tofu), whichever is drawn first.

Where no CJK font is installed the figure tests are skipped (failed under CI, whose machines have
``fonts-noto-cjk``), and the switch prints one line naming the fix instead.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from conftest import unavailable
from matplotlib import rcParams

import companion
from companion.plot import fonts

ROOT = Path(__file__).resolve().parent.parent
CHINESE = "编码器与解码器：潜空间中的贪婪搜索"
#: functions that create a figure themselves (plt.subplots, plt.figure, the diagrams' canvas)
CREATES_A_FIGURE = {"subplots", "figure", "_canvas"}


@pytest.fixture
def fresh_fonts():
    """The font switch as in a new kernel: off, then restored after the test."""
    family, state = list(rcParams["font.family"]), dict(fonts._state)
    rcParams["font.family"] = ["sans-serif"]
    fonts._state.clear()
    yield
    rcParams["font.family"] = family
    fonts._state.clear()
    fonts._state.update(state)
    plt.close("all")


def _cjk_font_installed() -> bool:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if any(name in names for name in fonts.CJK_FAMILIES):
        return True
    return any(
        hint in Path(path).name.lower()
        for path in font_manager.findSystemFonts()
        for hint in fonts._FILE_HINTS
    )


def _need_cjk_font():
    if not _cjk_font_installed():
        unavailable("no CJK font installed (apt-get install fonts-noto-cjk)")


def _missing_glyphs(fig) -> list[str]:
    """Add Chinese to every title and axis label of ``fig``, draw it, return the glyph warnings."""
    fig.suptitle(CHINESE)
    for ax in fig.axes:
        ax.set_title(ax.get_title() + " " + CHINESE)
        ax.set_xlabel(ax.get_xlabel() + " 时间步")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    return sorted({str(w.message) for w in caught if "missing from" in str(w.message)})


# ---------------------------------------------------------------- every figure of the package


def _seq2seq_traces():
    from companion.data import Seq2SeqData
    from companion.data.book_examples import BOOK_FIG_5_7, book_example_pairs
    from companion.models import make_encoder, make_seq2seq
    from companion.models.tracing import trace_bidirectional, trace_greedy

    data = Seq2SeqData.from_pairs(book_example_pairs(), "en", "zh")
    torch.manual_seed(0)
    model = make_seq2seq(
        len(data.src_vocab), len(data.tgt_vocab), decoder="attention", emb_dim=8, hidden=12
    ).eval()
    encoder = make_encoder("bigru", len(data.src_vocab), emb_dim=8, hidden=12).eval()
    with torch.no_grad():
        greedy = trace_greedy(model, data, BOOK_FIG_5_7.src, max_len=5)
        both = trace_bidirectional(encoder, data, BOOK_FIG_5_7.src)
    return greedy, both


def _figures():
    """{function name: a function drawing it with small inputs (Chinese where it takes words)}."""
    from companion import plot
    from companion.inference import NBestRow
    from companion.models import make_autoencoder, make_vae
    from companion.plot import audio, diagrams
    from companion.plot.vae_figures import trace_vae
    from companion.train import History
    from companion.widgets import autoencoders, translator

    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 1, 8, 8, generator=g)
    torch.manual_seed(0)
    ae, vae = make_autoencoder((1, 8, 8), 2, widths=(16,)), make_vae((1, 8, 8), 2, widths=(16,))
    greedy, both = _seq2seq_traces()
    words = ["我们", "学习", "<eos>"]
    answer = translator.OwnTranslation(
        nbest=[("我们 学习", -0.5)],
        source_tokens=["we", "learn"],
        output_tokens=words,
        weights=torch.rand(3, 2, generator=g),
    )
    return {
        "plot_attention": lambda: (
            plot.plot_attention(torch.rand(3, 2, generator=g), ["we", "learn"], words).figure
        ),
        "plot_spectrogram": lambda: audio.plot_spectrogram(
            torch.rand(6, 5, generator=g),
            hop_seconds=0.01,
            bin_hz=100.0,
            attention=torch.rand(2, 6, generator=g),
            tokens=["一", "二"],
        ),
        "show_captioned_images": lambda: plot.show_captioned_images(
            images[:2], ["红色圆形", "蓝色方块"]
        ),
        "plot_caption_attention": lambda: plot.plot_caption_attention(
            images[0].expand(3, 8, 8), words, torch.rand(3, 8, 8, generator=g)
        ),
        "plot_teacher_forcing": lambda: plot.plot_teacher_forcing(
            ["九百", "零", "五", "<eos>"], ["九百", "五", "五", "<eos>"], ["九百", "五", "<eos>"]
        ),
        "plot_nbest": lambda: (
            plot.plot_nbest(
                [NBestRow("你好 ， 世界", -0.4, True, True), NBestRow("你好", -1.2, False, False)]
            ).figure
        ),
        "plot_seq2seq_overview": lambda: diagrams.plot_seq2seq_overview(greedy),
        "plot_bidirectional_encoder": lambda: diagrams.plot_bidirectional_encoder(both),
        "plot_unrolled_decoder": lambda: diagrams.plot_unrolled_decoder(greedy),
        "plot_encoder": lambda: diagrams.plot_encoder(greedy),
        "plot_attention_seq2seq": lambda: diagrams.plot_attention_seq2seq(greedy),
        "plot_images": lambda: plot.plot_images(images, row_labels=["原图"]).figure,
        "plot_codes": lambda: plot.plot_codes(torch.randn(20, 2, generator=g)).figure,
        "plot_latent_grid": lambda: (
            plot.plot_latent_grid(
                lambda z: torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 8, 8), n=3
            ).figure
        ),
        "plot_history": lambda: (
            plot.plot_history(History(epochs=[{"loss": 1.0}, {"loss": 0.5}]), title="损失").figure
        ),
        "plot_linear_autoencoder": lambda: plot.plot_linear_autoencoder(
            torch.rand(16, generator=g),
            torch.eye(16)[:3],
            torch.eye(16)[:3].T,
            image_shape=(4, 4),
        ),
        "plot_noise_regions": lambda: plot.plot_noise_regions(
            torch.tensor([[0.5, -1.0], [2.0, 3.0]]), 0.25, labels=["满月", "半月"]
        ),
        "plot_code_curves": lambda: plot.plot_code_curves(
            torch.tensor([-1.0, 1.0]), torch.tensor([-2.0, -1.5]), labels=["满月", "半月"]
        ),
        "plot_code_bells": lambda: plot.plot_code_bells(
            torch.randn(2, 2, generator=g), torch.zeros(2, 2), torch.zeros(2, 2)
        ),
        "plot_vae_structure": lambda: plot.plot_vae_structure(
            trace_vae(vae, images[0], generator=torch.Generator().manual_seed(1)), images[0]
        ),
        "denoising_figure": lambda: autoencoders.denoising_figure(ae, images, 0.3),
        "latent_noise_figure": lambda: autoencoders.latent_noise_figure({"AE": ae}, images, 0.5),
        "latent_explorer_figure": lambda: autoencoders.latent_explorer_figure(vae, 0.5, -0.5),
        "translation_figure": lambda: translator.translation_figure(answer, title="我们学习"),
    }


def _figure_functions() -> set[str]:
    """Public functions of companion/plot and companion/widgets that create a figure."""
    found = set()
    for folder in ("plot", "widgets"):
        for path in sorted((ROOT / "companion" / folder).glob("*.py")):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                    continue
                calls = {
                    getattr(c.func, "attr", None) or getattr(c.func, "id", None)
                    for c in ast.walk(node)
                    if isinstance(c, ast.Call)
                }
                if calls & CREATES_A_FIGURE:
                    found.add(node.name)
    return found


def test_the_table_covers_every_function_that_draws_a_figure():
    assert _figure_functions() - set(_figures()) == set(), "add them to _figures()"


def test_setup_turns_on_chinese_in_every_figure(fresh_fonts, capsys):
    """Drawn after companion.setup() alone, as a notebook does: no helper has set the font."""
    _need_cjk_font()
    companion.setup(seed=0, device="cpu", quiet=True)
    assert fonts._state.get("family") in fonts.CJK_FAMILIES
    fig, ax = plt.subplots()  # the first figure of a notebook, before any companion plot
    ax.set_title("图5-3：潜空间中的噪声")
    assert _missing_glyphs(fig) == []
    tofu = {name: _missing_glyphs(draw()) for name, draw in _figures().items()}
    assert {name: found for name, found in tofu.items() if found} == {}
    assert "No Chinese font" not in capsys.readouterr().out


def test_without_the_switch_chinese_is_tofu(fresh_fonts):
    """The test above could fail: matplotlib's default font has no Chinese glyphs."""
    _need_cjk_font()
    fig, ax = plt.subplots()
    ax.set_title("编码器")
    assert _missing_glyphs(fig) != []


def test_without_a_cjk_font_one_line_names_the_fix(fresh_fonts, monkeypatch, capsys):
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ())
    monkeypatch.setattr(fonts, "_FILE_HINTS", ())
    with warnings.catch_warnings():
        assert fonts.use_cjk_font() is None
        assert fonts.use_cjk_font() is None
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "No Chinese font" in lines[0] and "fonts-noto-cjk" in lines[0]


@pytest.mark.notebook
def test_a_notebook_kernel_draws_chinese_after_setup(tmp_path, monkeypatch):
    """The case of the issue: a Chinese title on a notebook's first figure, inline backend."""
    import json

    from companion import notebooks as nbtools

    _need_cjk_font()
    path = nbtools.new_notebook("9.9-font", "Font", "字体", root=tmp_path)
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append(
        {
            "cell_type": "code",
            "id": "draw",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "import warnings\nimport matplotlib.pyplot as plt\n"
            "warnings.simplefilter('always')\nfig, ax = plt.subplots()\n"
            f"ax.set_title({CHINESE!r})\nplt.show()",
        }
    )
    path.write_text(json.dumps(nb), encoding="utf-8")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the inline backend, as in Jupyter
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    result = nbtools.run_notebook(path, tmp_path / "out", smoke=True, device="cpu")
    assert not result.error, result.error
    cell = json.loads(result.output.read_text(encoding="utf-8"))["cells"][-1]
    printed = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    assert "missing from" not in printed, printed
    assert any("image/png" in o.get("data", {}) for o in cell["outputs"])
