"""Every figure of the chapter is drawn and every numbered equation is checked, in some notebook.

The convention (a static scan of the stored notebooks, so follow it when you add a figure or a
check):

* **a figure counts** for a notebook when one of its code cells draws (it calls ``plt.…`` or a
  ``plot_…`` function) and has ``"Fig. 5-N"`` inside a string literal — the title, suptitle or
  label of what it draws, e.g.
  ``plot_vae_structure(trace, image, title="Fig. 5-5 the VAE on one digit")``. A mention in a
  comment, a ``print`` of a cell that draws nothing, or markdown does not count;
* **an equation counts** for a notebook when one of its code cells contains an ``assert`` statement
  (or calls ``torch.testing.assert_close`` / ``numpy.testing.assert_*``) and cites ``(5-N)``
  anywhere in the cell — in the assert's message, a comment or a printed label. A multi-equation
  citation such as ``(5-8, 5-12)`` does not count; write each number as ``(5-N)``.

``coverage()`` returns the table per notebook; the tests assert that all 11 figures and all 26
equations appear somewhere, and that each notebook's own section figures and equations are among
its checks.
"""

import ast
import io
import json
import re
import tokenize
from pathlib import Path

from companion.notebooks import notebook_paths

ROOT = Path(__file__).resolve().parents[1]
ALL_FIGURES = set(range(1, 12))
ALL_EQUATIONS = set(range(1, 27))
FIGURE = re.compile(r"Fig\. 5-(\d+)\b")
EQUATION = re.compile(r"\(5-(\d+)\)")
DRAWS = re.compile(r"\bplt\.|\bplot_\w+\(")


def _strings(code: str) -> list[str]:
    """The string literals of a code cell (f-string pieces included); IPython magics are skipped."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError):
        pass
    return out


def _checks(code: str) -> bool:
    """True when the cell asserts something."""
    try:
        tree = ast.parse(
            "\n".join(
                line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
        )
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name.startswith("assert_"):
                return True
    return False


def notebook_coverage(path: Path) -> dict[str, set[int]]:
    figures, equations = set(), set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "".join(cell["source"])
        if DRAWS.search(code):
            for s in _strings(code):
                figures |= {int(n) for n in FIGURE.findall(s)}
        if _checks(code):
            equations |= {int(n) for n in EQUATION.findall(code)}
    return {"figures": figures, "equations": equations}


def coverage() -> dict[str, dict[str, set[int]]]:
    return {p.stem: notebook_coverage(p) for p in notebook_paths(root=ROOT / "notebooks")}


def _table(cov) -> str:
    return "\n".join(
        f"{name:45} figures {sorted(c['figures'])}  equations {sorted(c['equations'])}"
        for name, c in cov.items()
    )


def test_every_figure_of_the_chapter_is_drawn_in_a_notebook():
    cov = coverage()
    drawn = set().union(*(c["figures"] for c in cov.values()))
    assert ALL_FIGURES <= drawn, f"not drawn: {sorted(ALL_FIGURES - drawn)}\n{_table(cov)}"


def test_every_numbered_equation_is_checked_in_a_notebook():
    cov = coverage()
    checked = set().union(*(c["equations"] for c in cov.values()))
    assert ALL_EQUATIONS <= checked, (
        f"not checked: {sorted(ALL_EQUATIONS - checked)}\n{_table(cov)}"
    )


SECTION_EQUATIONS = {
    "5.2.3": {1, 2, 3},
    "5.2.4": {4, 5, 6},
    "5.2.5": {7},
    "5.2.6": set(range(8, 18)),
    "5.3.1": {18, 19},
    "5.3.2": {20},
    "5.3.3": {21, 22, 23, 24},
    "5.3.5": {25, 26},
}
SECTION_FIGURES = {
    "5.2.1": {1, 2, 3, 5, 6},
    "5.2.2": {4},
    "5.3.1": {7, 8},
    "5.3.2": {9},
    "5.3.3": {10},
    "5.3.4": {11},
}


def test_each_notebook_checks_its_own_sections_equations_and_draws_its_figures():
    cov = coverage()
    by_section = {name.split("-")[0]: c for name, c in cov.items()}
    for section, numbers in SECTION_EQUATIONS.items():
        assert numbers <= by_section[section]["equations"], (
            section,
            sorted(numbers - by_section[section]["equations"]),
        )
    for section, numbers in SECTION_FIGURES.items():
        assert numbers <= by_section[section]["figures"], (
            section,
            sorted(numbers - by_section[section]["figures"]),
        )


def test_the_scan_counts_only_what_the_convention_says():
    assert _strings('plt.title(f"Fig. 5-4 codes {n}")  # Fig. 5-9 in a comment')
    cell = 'x = 1  # (5-3)\nprint("(5-4)")'
    assert (
        not _checks(cell)
        and _checks(cell + "\nassert x == 1")
        and _checks("np.testing.assert_allclose(a, b)")
    )
    found = {int(n) for s in _strings('t = "Fig. 5-4"  # Fig. 5-9') for n in FIGURE.findall(s)}
    assert found == {4}
    assert DRAWS.search('plot_images(x, title="Fig. 5-2")') and not DRAWS.search(
        'print("Fig. 5-5 loss")'
    )
