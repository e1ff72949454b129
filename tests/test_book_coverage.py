"""Every figure of the chapter is drawn and every numbered equation is checked, in some notebook.

The convention (a static scan of the stored notebooks, so follow it when you add a figure or a
check):

* **a figure counts** for a notebook when one of its code cells draws (it calls ``plt.…`` or a
  ``plot_…`` function) and has ``"Fig. 5-N"`` inside a string literal — the title, suptitle or
  label of what it draws, e.g.
  ``plot_vae_structure(trace, image, title="Fig. 5-5 the VAE on one digit")``. A mention in a
  comment, a ``print`` of a cell that draws nothing, or markdown does not count;
* **an equation counts** for a notebook only through an ``assert`` statement (or a call of
  ``torch.testing.assert_close`` / ``numpy.testing.assert_*``) that **compares the equation with an
  independent reference**:

  - *independent*: what the assert reads — its own names, and, through the cell's assignments
    (``x = …``, ``for x in …``, ``x.append(…)``, ``def x(…)``), every name those were computed
    from — includes a reference: a variable named for where its value comes from
    (``by_hand``, ``g_hand``, ``reference``, ``reference_sum``, ``nll_closed``, ``theirs``,
    ``library``, ``autograd``, ``exhaustive``, ``brute_force``, or exactly ``exact``: see
    ``REFERENCE_NAME``) or a library that computes the same thing another way
    (``torch.distributions``, ``kl_divergence``, ``sacrebleu``, ``scaled_dot_product_attention``,
    ``pack_padded_sequence``, ``GRUCell`` …: see ``REFERENCE_APIS``). ``assert a <= b`` between two
    of the package's own numbers (Jensen's inequality on any sample, an identity true by
    definition) credits nothing;
  - *the equation*: ``(5-N)`` is written on the assert's own lines (its message or a trailing
    comment) or on the line of an assignment the assert depends on, e.g.
    ``c_t = alpha @ h  # (5-23)`` followed by ``assert torch.allclose(p_package, p_by_hand)`` where
    ``p_by_hand`` is computed from ``c_t``. A multi-equation citation such as ``(5-8, 5-12)`` does
    not count; write each number as ``(5-N)``. A citation in a ``print`` or in markdown does not
    count.

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


#: a variable named for where its value comes from: an independent computation of the same thing
REFERENCE_NAME = re.compile(
    r"(^|_)(by_hand|hand|reference|closed|closed_form|theirs|library|autograd|exhaustive|"
    r"brute_force)(_|$)|^exact$"
)
#: functions, classes and modules that compute the same thing another way than the package
REFERENCE_APIS = {
    "distributions",  # torch.distributions
    "kl_divergence",
    "as_torch_mixture",  # a companion model handed to torch.distributions' MixtureSameFamily
    "sacrebleu",
    "scaled_dot_product_attention",
    "pack_padded_sequence",
    "GRUCell",
    "RNNCell",
    "LSTMCell",
}


def _code_lines(code: str) -> list[str]:
    """The cell's lines with IPython magics blanked, so that line numbers stay as written."""
    return ["" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]


def _names(node: ast.AST | None) -> set[str]:
    """Every variable, attribute and called name in an expression or statement."""
    found = set()
    for sub in ast.walk(node) if node is not None else ():
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
    return found


def _targets(node: ast.AST) -> set[str]:
    """The variables an assignment target binds (``x``, ``a, b``, ``x[i]`` and ``x.y`` bind x)."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
    return found


def _is_reference(name: str) -> bool:
    return bool(REFERENCE_NAME.search(name)) or name in REFERENCE_APIS


def _bindings(tree: ast.AST):
    """(bound names, names read, first line, last line) for every assignment-like statement."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound = set().union(*(_targets(t) for t in targets))
            yield bound, _names(node.value), node.lineno, node.end_lineno
        elif isinstance(node, (ast.For, ast.comprehension)):
            line = node.iter.lineno
            yield _targets(node.target), _names(node.iter), line, node.iter.end_lineno
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            expr = node.context_expr
            yield _targets(node.optional_vars), _names(expr), expr.lineno, expr.end_lineno
        elif isinstance(node, ast.FunctionDef):
            yield {node.name}, _names(node), node.lineno, node.end_lineno
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func  # x.append(v), x.extend(v), x.update(v): x now depends on v
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                yield {func.value.id}, _names(node.value), node.lineno, node.end_lineno


def _asserts(tree: ast.AST):
    """(names read, first line, last line) of every assert statement and assert_… call."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            yield _names(node.test), node.lineno, node.end_lineno
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.startswith("assert_"):
                yield _names(node) - {name}, node.lineno, node.end_lineno


def checked_equations(code: str) -> set[int]:
    """The equations (5-N) that the cell's asserts compare with an independent reference."""
    lines = _code_lines(code)
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()

    def cited(first: int, last: int) -> set[int]:
        return {int(n) for n in EQUATION.findall("\n".join(lines[first - 1 : last]))}

    read_by: dict[str, set[str]] = {}
    cites_of: dict[str, set[int]] = {}
    for bound, read, first, last in _bindings(tree):
        for name in bound:
            read_by.setdefault(name, set()).update(read)
            cites_of.setdefault(name, set()).update(cited(first, last))
    credited = set()
    for read, first, last in _asserts(tree):
        reached, todo = set(), list(read)
        while todo:
            name = todo.pop()
            if name not in reached:
                reached.add(name)
                todo.extend(read_by.get(name, ()))
        if any(_is_reference(name) for name in reached):
            credited |= cited(first, last)
            for name in reached:
                credited |= cites_of.get(name, set())
    return credited


def notebook_coverage(path: Path) -> dict[str, set[int]]:
    figures, equations = set(), set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "".join(cell["source"])
        if DRAWS.search(code):
            for s in _strings(code):
                figures |= {int(n) for n in FIGURE.findall(s)}
        equations |= checked_equations(code)
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
    found = {int(n) for s in _strings('t = "Fig. 5-4"  # Fig. 5-9') for n in FIGURE.findall(s)}
    assert found == {4}
    assert DRAWS.search('plot_images(x, title="Fig. 5-2")') and not DRAWS.search(
        'print("Fig. 5-5 loss")'
    )
    # an assert against an independent reference credits the equations it depends on …
    by_hand = (
        "e = s @ h.T            # (5-21)\n"
        "alpha = e.softmax(-1)  # (5-22)\n"
        'print("(5-24)")\n'
        "c_by_hand = alpha @ h\n"
        "assert torch.allclose(c_t, c_by_hand)  # (5-23)"
    )
    assert checked_equations(by_hand) == {21, 22, 23}
    loop = "for x in xs:\n    h = f(x, h)  # (5-18)\n    by_hand.append(h)\nassert by_hand == out"
    assert checked_equations(loop) == {18}
    library = "ours = bleu(h, r)  # (5-26)\ntheirs = sacrebleu.corpus_bleu(h, [r]).score\n"
    assert checked_equations(library + "assert abs(ours - theirs) < 1e-6") == {26}
    close = "torch.testing.assert_close(kl, kl_divergence(p, q))  # (5-14)"
    assert checked_equations(close) == {14}
    # … an assert between the package's own numbers credits nothing, whatever the cell cites
    assert checked_equations("m = w.log().mean()  # (5-11)\nassert m <= w.mean().log()") == set()
    assert checked_equations("assert abs(elbo - (rec - kl)) < 1e-9  # (5-8)") == set()
    assert checked_equations('x = 1  # (5-3)\nprint("(5-4)")\nassert x == 1') == set()
    # … and a citation only in a print, or with several numbers in one bracket, counts for nothing
    assert checked_equations('print("(5-4)")\nassert exact == 1') == set()
    assert checked_equations("assert torch.allclose(a, reference)  # (5-8, 5-12)") == set()
