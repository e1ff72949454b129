"""companion.exercises: one test per principle across every exercise (issue "Exercises a student
can trust"), ``verify`` itself, and the student's API (check, hint, solution, explain, progress).

The principles are proved by :mod:`companion.exercises.verify` from each exercise's own reference
and demo objects; the tests below run it once and report each principle separately, then show
that verify catches an exercise that breaks the principle."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from companion.exercises import (
    CheckResult,
    Exercise,
    Mistake,
    Precision,
    check,
    core,
    explain,
    hint,
    list_exercises,
    list_questions,
    progress,
    reference,
    register,
    solution,
    store,
)
from companion.exercises.functions import FunctionSpec, implement_exercise
from companion.exercises.numeric import check_number, predict_exercise
from companion.exercises.timelimit import time_limit
from companion.exercises.verify import PROPERTIES, verify_exercise, verify_question

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("temporary_cache")


# ---------------------------------------------------------------- every exercise, every principle


@pytest.fixture(scope="module")
def verified() -> dict[str, list[str]]:
    """{property: problems} of one verify run over every exercise (one thread, as the CLI)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        problems = [p for e in list_exercises() for p in verify_exercise(e)]
    finally:
        torch.set_num_threads(before)
    return {
        name: [p for p in problems if f"[{name}]" in p or "demo_context raised" in p]
        for name in PROPERTIES
    }


@pytest.mark.parametrize("principle", PROPERTIES)
def test_every_exercise_keeps_the_principle(verified, principle):
    assert verified[principle] == [], "\n".join(verified[principle])


def test_every_explain_question_has_a_model_answer():
    questions = list_questions()
    assert [p for q in questions for p in verify_question(q)] == []
    parts = {}
    for q in questions:
        parts.setdefault(q.id.split(".")[0] + "." + q.id.split(".")[1][0], []).append(q.id)
    assert set(parts) == {"5.1", "5.2", "5.3"} and all(len(ids) >= 3 for ids in parts.values())


# ---------------------------------------------------------------- verify catches broken exercises


@pytest.fixture
def scratch():
    """Register exercises for one test only."""
    made = []

    def add(exercise):  # an Exercise, or one that a builder such as predict_exercise registered
        made.append(exercise if exercise.id in core._REGISTRY else register(exercise))
        return made[-1]

    yield add
    for exercise in made:
        core._REGISTRY.pop(exercise.id, None)


def _problems(exercise, name):
    return [p for p in verify_exercise(exercise) if f"[{name}]" in p]


def test_verify_catches_a_message_that_gives_the_answer_away(scratch):
    exercise = predict_exercise(
        id="0.0-leaky",
        section="0.0",
        title="t",
        value=0.4321,
        precision=Precision(3),
        answer_name="x",
        mistakes=[("half", 0.4321 / 2, "you halved it; the answer is 0.432")],
        solution="x = 0.4321  # 0.432",
        hints=("h",),
    )
    scratch(exercise)
    assert _problems(exercise, "no leak"), "a message naming 0.432 must be reported"


def test_verify_catches_a_checker_stricter_than_its_stated_precision(scratch):
    exercise = scratch(
        Exercise(
            id="0.0-strict",
            section="0.0",
            kind="predict",
            title="t",
            checker=lambda answer, ctx: check_number(
                answer, 2 / 3, Precision(6), ctx, (), what="your number"
            ),
            reference=lambda ctx: 2 / 3,
            solution="x = 2 / 3  # 0.67",
            hints=("h",),
            answer_name="x",
            mistakes=(Mistake("m", lambda ctx: 0.5, "no"),),
            precision=Precision(2),  # what the prompt says; the checker wants six decimals
        )
    )
    assert _problems(exercise, "precision")


def test_verify_catches_a_checker_that_compares_values_only(scratch):
    def lenient(answer, ctx):  # accepts anything float() understands: "0.5", True, a 0/1 mask
        values = [float(v) for v in torch.as_tensor(answer(3)).flatten()]
        if values != [float(v) for v in torch.ones(3, 3).triu(1).flatten()]:
            raise core.CheckFailed("wrong")

    exercise = scratch(
        Exercise(
            id="0.0-lenient",
            section="0.0",
            kind="implement",
            title="t",
            checker=lenient,
            reference=lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool).triu(1),
            solution="def mask(n):\n    return torch.ones(n, n, dtype=torch.bool).triu(1)\n",
            hints=("h",),
            answer_name="mask",
            mistakes=(
                Mistake("m", lambda ctx: lambda n: torch.ones(n, n, dtype=torch.bool), "no"),
            ),
            probes=lambda: [core_case((3,))],
        )
    )
    assert _problems(exercise, "kinds"), "a float 0/1 mask must not pass for a bool one"


def test_verify_catches_a_mistake_named_from_one_case(scratch):
    cases = [(torch.tensor([1.0, 2.0]),), (torch.tensor([3.0, -1.0]),), (torch.tensor([0.5]),)]
    doubled = Mistake("doubled", lambda ctx: lambda x: 2 * x, "you doubled it")

    def first_case_only(answer, ctx):  # the old way: a mistake matched on the first failing case
        for (x,) in cases:
            got = answer(x.clone())
            if not torch.allclose(got, x + 1):
                if torch.allclose(got, 2 * x):
                    raise core.CheckFailed(doubled.message)
                raise core.CheckFailed("on hidden case: wrong")

    exercise = scratch(
        Exercise(
            id="0.0-one-case",
            section="0.0",
            kind="implement",
            title="t",
            checker=first_case_only,
            reference=lambda ctx: lambda x: x + 1,
            solution="def f(x):\n    return x + 1\n",
            hints=("h",),
            answer_name="f",
            mistakes=(doubled,),
            probes=lambda: [core_case(c) for c in cases],
        )
    )
    assert _problems(exercise, "diagnosis")


def core_case(args):
    from companion.exercises.functions import Case

    return Case(tuple(args))


def test_verify_catches_a_solution_that_is_not_the_reference(scratch):
    exercise = predict_exercise(
        id="0.0-two-answers",
        section="0.0",
        title="t",
        value=1.5,
        precision=Precision(1),
        answer_name="x",
        mistakes=[("m", 3.0, "no")],
        solution="x = 1 + 1  # 2.0",
        hints=("h",),
    )
    scratch(exercise)
    assert _problems(exercise, "solution")


# ----------------------------------------------------- kinds, precision, leaks (examples)


@pytest.mark.parametrize(
    "exercise_id,answer,passes",
    [
        ("5.3.6-causal-mask", lambda n: torch.ones(n, n).triu(1), False),  # a float 0/1 mask
        ("5.3.6-causal-mask", lambda n: torch.ones(n, n, dtype=torch.long).triu(1), False),
        ("5.3.5-brevity-penalty", lambda c, r: "1.0" if c >= r else "0.5", False),
        (
            "5.3.5-brevity-penalty",
            lambda c, r: 1 if c >= r else math.exp(1 - r / c) if c else 0,
            True,
        ),
        ("5.3.5-clipped-bigram", 0.67, True),
        ("5.3.5-clipped-bigram", "4/6", True),
        ("5.3.3-masked-weights", "3/4", True),
        ("5.2.2-prior-mass", "0.975", False),  # a string where no fraction is asked for
        ("5.1.3-encoder-parameters", 25120.0, True),
        ("5.1.3-encoder-parameters", True, False),
    ],
)
def test_kinds_are_checked_before_values_and_right_answers_at_the_precision_pass(
    exercise_id, answer, passes
):
    result = check(exercise_id, answer)
    assert result.passed is passes, result.message
    if not passes:
        assert "expected" in result.message or "not right" in result.message


def test_a_float_mask_is_refused_with_the_reason():
    message = check("5.3.6-causal-mask", lambda n: torch.ones(n, n).triu(1)).message
    assert "torch.bool" in message and "adds" in message and "bool tensor of shape" in message


def test_a_mistake_is_named_only_when_it_explains_every_case():
    constant = check("5.3.5-brevity-penalty", lambda c, r: 1).message
    assert "swapped" not in constant and "hidden case" in constant and "hyp_len=5" in constant
    hard_coded = check("5.3.5-brevity-penalty", lambda c, r: math.exp(1 - 6 / 5)).message
    assert "swapped" not in hard_coded and "hidden case 2" in hard_coded
    swapped = check("5.3.5-brevity-penalty", lambda c, r: 1.0 if r >= c else math.exp(1 - c / r))
    assert "swapped the lengths" in swapped.message


def test_wrong_experiment_numbers_say_too_large_or_too_small_only():
    from companion.exercises.ex_5_1_3 import _demo_autoencoder

    context = _demo_autoencoder()
    right = reference("5.1.3-denoise-mse", **context)
    for wrong, word in ((right * 1.5, "too large"), (right * 0.5, "too small")):
        message = check("5.1.3-denoise-mse", wrong, **context).message
        assert word in message and f"{right:.4f}" not in message and f"{right:.3g}" not in message


def test_nan_and_inf_are_named():
    assert "NaN" in check("5.2.6-kl-by-hand", float("nan")).message
    assert "infinite" in check("5.2.6-kl-by-hand", float("inf")).message
    nan_kl = check("5.2.6-kl", lambda mu, lv: (mu * float("nan")).sum(-1)).message
    assert "NaN" in nan_kl


# ---------------------------------------------------------------- the time limit


def test_an_endless_loop_is_stopped_and_the_message_says_what_to_look_at():
    def greedy_until_eos(step, state, *, bos_id, eos_id, max_len):
        prev = torch.full((state.shape[0],), bos_id)
        outputs = [[] for _ in range(state.shape[0])]
        while True:  # waits for <eos> in every row, ignoring max_len
            log_probs, state = step(prev, state)
            prev = log_probs.argmax(-1)
            for row, token in zip(outputs, prev.tolist(), strict=True):
                row.append(token)
            if all(eos_id in row for row in outputs):
                return outputs

    start = time.perf_counter()
    with time_limit(0.5):
        result = check("5.3.2-greedy-decode", greedy_until_eos)
    assert time.perf_counter() - start < 3
    assert result.attempted and not result.passed
    assert "did not return within 0.5 s" in result.message and "max_len" in result.message


def test_the_stop_cannot_be_caught_by_except_exception():
    def stubborn(mu, logvar):
        while True:
            try:
                while True:
                    pass
            except Exception:  # what a student might write
                continue

    with time_limit(0.3):
        result = check("5.2.6-kl", stubborn)
    assert "did not return within 0.3 s" in result.message


def test_a_call_stuck_in_one_c_operation_is_reported_and_left_behind():
    def sleeper(mu, logvar):
        time.sleep(3)
        return mu.sum(-1)

    start = time.perf_counter()
    with time_limit(0.2):
        result = check("5.2.6-kl", sleeper)
    assert time.perf_counter() - start < 2.5
    assert (
        "did not return within 0.2 s" in result.message and "restart the kernel" in result.message
    )


def test_the_default_limit_is_stated_in_seconds():
    from companion.exercises.timelimit import TIME_LIMIT, current_limit

    assert current_limit() == TIME_LIMIT == 5.0


# ---------------------------------------------------------------- the student's API


def test_cli_list_progress_and_verify(temporary_cache):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "companion.exercises", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**__import__("os").environ, "XDG_CACHE_HOME": str(temporary_cache)},
        )

    listed = run("list")
    assert listed.returncode == 0
    assert re.search(r"^5\.2\.6-kl\s+\|\s+5\.2\.6.*\|\s+implement\s+\|", listed.stdout, re.M)
    assert re.search(r"^5\.2\.6-why-log-variance\s+\|.*\|\s+explain\s+\|", listed.stdout, re.M)
    verified = run("verify", "5.2.2-prior-mass")
    assert verified.returncode == 0, verified.stdout
    assert "exercises sound" in verified.stdout
    shown = run("progress")
    assert shown.returncode == 0 and re.search(
        r"^5\.2\.6\s+\|\s+0\s+\|\s+0\s+\|\s+5\s+\|", shown.stdout, re.M
    )


def test_unknown_id_lists_close_ids():
    with pytest.raises(ValueError, match="5.2.6-kl"):
        check("5.2.6-kll", None)


def test_not_attempted_for_none_ellipsis_and_untouched_stub(capsys):
    def kl_to_standard_normal(mu, logvar):
        raise NotImplementedError  # your code here

    for answer in (None, ..., kl_to_standard_normal):
        result = check("5.2.6-kl", answer)
        assert (result.passed, result.attempted) == (False, False)
    assert capsys.readouterr().out.count("not attempted yet") == 3


def test_student_exceptions_are_reported_with_the_case_and_the_line(capsys):
    def kl_to_standard_normal(mu, logvar):
        return mu + "oops"

    result = check("5.2.6-kl", kl_to_standard_normal)
    assert result.attempted and not result.passed
    out = capsys.readouterr().out
    assert "your function raised TypeError" in out and "hidden case 1 of 4" in out
    assert "in kl_to_standard_normal, line" in out and 'return mu + "oops"' in out


def test_kl_mistakes_get_their_own_messages_and_log_std_cites_the_erratum():
    twice = check("5.2.6-kl", lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(-1))
    assert "twice the KL" in twice.message and "½" in twice.message
    log_std = check(
        "5.2.6-kl", lambda mu, lv: 0.5 * (mu**2 + (2 * lv).exp() - 1 - 2 * lv).sum(-1)
    ).message
    assert "ERRATA.md, item 8" in log_std and "first definition" in log_std and "log σ²" in log_std
    right = check("5.2.6-kl", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(-1))
    assert right.passed and right.message.startswith("✓")


def test_the_monte_carlo_kl_check_measures_the_sampling():
    from companion.exercises.ex_5_2_6 import _closed

    closed = check("5.2.6-mc-kl", lambda mu, lv, n, g: _closed(mu, lv).float())
    assert "does not sample" in closed.message
    assert check("5.2.6-mc-kl", reference("5.2.6-mc-kl")).passed


def test_hints_are_graded_then_the_last_repeats(capsys):
    core._HINTS_SHOWN.pop("5.2.6-kl", None)
    for _ in range(4):
        hint("5.2.6-kl")
    out = capsys.readouterr().out
    assert [int(n) for n in re.findall(r"Hint (\d)/3", out)] == [1, 2, 3, 3]
    assert out.count("last hint") == 1


def test_the_printed_solution_is_the_reference_function(capsys):
    solution("5.2.6-kl")
    printed = capsys.readouterr().out
    assert "def kl_to_standard_normal" in printed
    namespace = dict(core.SOLUTION_GLOBALS)
    exec(printed.split("\n", 1)[1].split("\n\n")[0], namespace)  # our own text
    mu, logvar = torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(
        namespace["kl_to_standard_normal"](mu, logvar), reference("5.2.6-kl")(mu, logvar)
    )


def test_reference_returns_a_passing_answer_silently(capsys):
    answer = reference("5.2.6-kl")
    assert capsys.readouterr().out == ""
    assert check("5.2.6-kl", answer).passed


def test_explain_notes_an_answer_and_solution_shows_a_model_answer(capsys):
    explain("5.2.6-why-log-variance", "")
    assert "not written yet" in capsys.readouterr().out
    explain("5.2.6-why-log-variance", "A variance must be positive, and exp of anything is.")
    solution("5.2.6-why-log-variance")
    out = capsys.readouterr().out
    assert "not graded" in out and "A model answer" in out and "ERRATA.md, item 8" in out
    with pytest.raises(ValueError, match="explain question"):
        check("5.2.6-why-log-variance", "text")
    explain("5.2.6-elbo-gap", "它是近似后验到真实后验的KL散度。")  # Chinese has no spaces
    assert "noted (16 words)" in capsys.readouterr().out


# ---------------------------------------------------------------- progress


def test_progress_keeps_the_best_result_and_skips_reference_answers(capsys, temporary_cache):
    def right(mu, lv):
        return 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(-1)

    check("5.2.6-kl", right)
    check("5.2.6-kl", lambda mu, lv: mu.sum(-1))  # a later failure does not erase the pass
    check("5.2.6-kl-by-hand", 9.0)
    check("5.2.6-kl-gaussians", reference("5.2.6-kl-gaussians"))  # handed out: not saved
    explain("5.2.6-elbo-gap", "It is the KL from q to the true posterior, never negative.")
    saved = json.loads((temporary_cache / "companion/exercises/progress.json").read_text())
    assert saved["exercises"]["5.2.6-kl"] == {"best": "passed", "attempts": 2, "last": "failed"}
    assert saved["exercises"]["5.2.6-kl-by-hand"]["best"] == "failed"
    assert "5.2.6-kl-gaussians" not in saved["exercises"]
    assert saved["explain"] == {"5.2.6-elbo-gap": {"written": True}}
    capsys.readouterr()
    statuses = progress("5.2.6")
    assert statuses["5.2.6-kl"] == "passed" and statuses["5.2.6-kl-by-hand"] == "failed"
    assert statuses["5.2.6-kl-gaussians"] == "passed"  # this kernel's result is shown
    assert statuses["5.2.6-elbo-gap"] == "written"
    assert "2/5 passed, 3/5 attempted; 1/2 explain questions written" in capsys.readouterr().out
    assert statuses._ipython_display_() is None


def test_progress_survives_an_unwritable_cache(monkeypatch, capsys, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    check("5.2.6-kl-by-hand", 9.0)
    assert "kept for this kernel only" in capsys.readouterr().out
    assert progress("5.2.6")["5.2.6-kl-by-hand"] == "failed"


def test_progress_persists_across_a_kernel_restart(temporary_cache):
    """Two real kernels (jupyter_client): the first passes an exercise and then fails it, the
    second, started afresh, still reports the pass."""
    import jupyter_client  # installed with papermill and nbval (the dev extra): no skip

    env = {
        **__import__("os").environ,
        "XDG_CACHE_HOME": str(temporary_cache),
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
    }

    def run_in_a_kernel(code: str) -> str:
        manager = jupyter_client.KernelManager(kernel_name="python3")
        manager.start_kernel(env=env, cwd=str(ROOT))
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            output: list[str] = []
            reply = client.execute_interactive(
                code,
                timeout=180,
                output_hook=lambda msg: (
                    output.append(msg["content"].get("text", ""))
                    if msg["msg_type"] == "stream"
                    else None
                ),
            )
            assert reply["content"]["status"] == "ok", reply["content"]
            return "".join(output)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)

    first = run_in_a_kernel(
        "from companion.exercises import check\n"
        "check('5.2.6-kl-by-hand', 1.31)\n"
        "check('5.2.6-kl-by-hand', 2.61)\n"
    )
    assert "✓ 5.2.6-kl-by-hand" in first and "✗ 5.2.6-kl-by-hand" in first
    second = run_in_a_kernel("from companion.exercises import progress\nprogress('5.2.6')\n")
    assert re.search(r"✓ 5\.2\.6-kl-by-hand\s+passed", second), second
    assert "1/5 passed, 1/5 attempted" in second


# ---------------------------------------------------------------- the machinery


def test_missing_context_is_a_clear_error_and_duplicates_are_refused(scratch):
    exercise = scratch(
        Exercise(
            id="0.1-measure",
            section="0.1",
            kind="experiment",
            title="a measured number",
            checker=lambda answer, ctx: check_number(
                answer, ctx["data"].mean().item(), Precision(2), ctx, (), what="x"
            ),
            reference=lambda ctx: ctx["data"].mean().item(),
            solution="my_mean = data.mean().item()",
            hints=("h1", "h2"),
            answer_name="my_mean",
            needs=("data",),
            demo_context=lambda: {"data": torch.arange(4.0)},
            precision=Precision(2),
            solution_names=lambda ctx: {"data": ctx["data"]},
        )
    )
    with pytest.raises(ValueError, match="data="):
        check("0.1-measure", 1.5)
    assert check("0.1-measure", 1.5, data=torch.arange(4.0)).passed
    with pytest.raises(ValueError, match="registered twice"):
        register(exercise)


def test_implement_checks_run_on_one_thread_and_restore_the_setting():
    from companion.prob import kl_to_standard_normal

    seen = []

    def kl(mu, logvar):
        seen.append(torch.get_num_threads())
        return kl_to_standard_normal(mu, logvar)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert check("5.2.6-kl", kl).passed
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}


def test_check_result_is_printed_once_in_a_notebook():
    result = CheckResult(True, True, "✓ x")
    assert result._ipython_display_() is None and str(result) == "✓ x" and bool(result)


def test_implement_exercise_refuses_a_solution_without_the_stub_name():
    with pytest.raises(ValueError, match="does not define"):
        implement_exercise(
            id="0.2-nameless",
            section="0.2",
            title="t",
            answer_name="f",
            spec=FunctionSpec(cases=lambda: [(1,)], expected=lambda x: x),
            mistakes=(),
            solution="def g(x):\n    return x\n",
            hints=("h",),
        )
    assert "0.2-nameless" not in core._REGISTRY


def test_store_keeps_the_best_of_several_results():
    assert store.best("failed", "passed", "not attempted") == "passed"
    assert store.best("not attempted", "failed") == "failed"


# ---------------------------------------------------------------- the notebooks' exercise sections

NOTEBOOK_PATHS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _calls(path: Path, name: str) -> list[tuple[str, str, int]]:
    """(id, answer name, cell index) of every ``name("<id>", answer, ...)`` cell."""
    found = []
    for index, cell in enumerate(_cells(path)):
        source = "".join(cell["source"])
        match = re.match(rf'{name}\("([^"]+)", ([A-Za-z_]\w*)', source)
        if cell["cell_type"] == "code" and match:
            found.append((match[1], match[2], index))
    return found


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.stem for p in NOTEBOOK_PATHS])
def test_every_notebook_checks_its_exercises_in_order_with_their_names(path):
    notebook = path.name.split("-")[0]
    registered = list_exercises(notebook)
    assert len(registered) >= 4 and any(e.kind == "implement" for e in registered)
    checks = _calls(path, "check")
    assert [i for i, _, _ in checks] == [e.id for e in registered]
    assert [a for _, a, _ in checks] == [e.answer_name for e in registered]
    explained = _calls(path, "explain")
    assert [i for i, _, _ in explained] == [q.id for q in list_questions(notebook)] != []
    parameters = next(c for c in _cells(path) if "parameters" in c["metadata"].get("tags", []))
    assert re.search(r"^solutions = False", "".join(parameters["source"]), re.M)


def test_every_exercise_belongs_to_a_notebook_and_every_notebook_has_some():
    per_notebook = {p.name.split("-")[0]: _calls(p, "check") for p in NOTEBOOK_PATHS}
    assert {e.notebook for e in list_exercises()} == set(per_notebook)
    assert len(list_exercises()) == sum(map(len, per_notebook.values()))


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.stem for p in NOTEBOOK_PATHS])
def test_every_prompt_states_the_precision_its_checker_uses(path):
    cells = _cells(path)
    for exercise_id, _answer, index in _calls(path, "check"):
        exercise = core.get(exercise_id)
        prompt = "".join(cells[index - 2]["source"])
        assert f"`{exercise_id}`" in prompt, (exercise_id, prompt[:80])
        if exercise.precision is not None:
            phrase = exercise.precision.english_phrase()
            assert phrase in " ".join(prompt.split()), (exercise_id, phrase)


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.stem for p in NOTEBOOK_PATHS])
def test_experiment_solutions_use_only_names_the_notebook_defines(path):
    """The printed solution of an experiment runs in the notebook: every name it reads is defined
    by the notebook's code (verify runs it on demo objects bound to the same names)."""
    import ast
    import builtins

    defined = set(dir(builtins)) | set(core.SOLUTION_GLOBALS)
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if source.lstrip().startswith(("%", "!")):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(
                node.target, ast.Name
            ):
                defined.add(node.target.id)
    for exercise in list_exercises(path.name.split("-")[0]):
        if exercise.kind != "experiment":
            continue
        tree = ast.parse(exercise.solution)
        assigned = {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
        assigned |= {
            (a.asname or a.name).split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
        read = {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        assert read - assigned <= defined, (exercise.id, sorted(read - assigned - defined))
