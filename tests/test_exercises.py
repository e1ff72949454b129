"""companion.exercises: every reference passes, every typical mistake is named, the API behaves."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from companion.exercises import (
    CheckResult,
    Exercise,
    Mistake,
    check,
    core,
    hint,
    list_exercises,
    progress,
    reference,
    register,
    solution,
)

ROOT = Path(__file__).resolve().parent.parent


def test_verify_every_reference_passes_and_every_mistake_is_named():
    problems = core.verify()
    assert problems == [], "\n".join(problems)
    assert len(list_exercises()) >= 2


def test_verify_catches_an_unrecognised_mistake_and_a_failing_reference():
    exercise = Exercise(
        id="0.0-broken",
        section="0.0",
        kind="predict",
        title="t",
        checker=lambda answer, ctx: core.check_number(answer, 2.0, ctx, ()),
        reference=lambda ctx: 3.0,
        solution_text=" ",
        hints=("h",),
        mistakes=(Mistake("half", lambda ctx: 1.0, "you halved it"),),
    )
    problems = core.verify_exercise(exercise)
    assert any("the reference fails" in p for p in problems)
    assert any("fails with another message" in p for p in problems)
    assert any("empty solution" in p for p in problems)


def test_cli_list_and_verify():
    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "companion.exercises", *a],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )

    listed = run("list")
    assert listed.returncode == 0
    assert re.search(r"^5\.2\.6-kl\s+\|\s+5\.2\.6.*\|\s+implement\s+\|", listed.stdout, re.M)
    verified = run("verify", "5.2.6")
    assert verified.returncode == 0, verified.stdout
    assert "exercises sound" in verified.stdout


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


def test_student_exceptions_are_reported_not_raised(capsys):
    def kl_to_standard_normal(mu, logvar):
        return mu + "oops"

    result = check("5.2.6-kl", kl_to_standard_normal)
    assert result.attempted and not result.passed
    out = capsys.readouterr().out
    assert "your function raised TypeError" in out
    assert (
        "in kl_to_standard_normal, line" in out and 'return mu + "oops"' in out
    )  # where it failed


def test_wrong_kind_of_answer_is_a_failure_not_a_crash():
    result = check("5.2.6-kl", 3.0)
    assert result.attempted and not result.passed and "could not be checked" in result.message
    result = check("5.2.6-kl", lambda mu, logvar: 1.0)
    assert not result.passed and "torch.Tensor" in result.message


def test_kl_mistakes_get_their_own_messages():
    twice = check("5.2.6-kl", lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(-1))
    assert "twice the KL" in twice.message and "½" in twice.message
    right = check("5.2.6-kl", lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(-1))
    assert right.passed and right.message.startswith("✓")


def test_reparameterize_own_noise_and_detached_are_named():
    own = check(
        "5.2.1-reparameterize", lambda mu, lv, eps: mu + (0.5 * lv).exp() * torch.randn_like(mu)
    )
    assert "draws its own noise" in own.message
    detached = check(
        "5.2.1-reparameterize", lambda mu, lv, eps: (mu + (0.5 * lv).exp() * eps).detach()
    )
    assert "no gradient" in detached.message


def test_hints_are_graded_then_the_last_repeats(capsys):
    core._HINTS_SHOWN.pop("5.2.6-kl", None)
    for _ in range(4):
        hint("5.2.6-kl")
    out = capsys.readouterr().out
    assert [int(n) for n in re.findall(r"Hint (\d)/3", out)] == [1, 2, 3, 3]
    assert out.count("last hint") == 1


def test_solution_prints_the_worked_solution(capsys):
    solution("5.2.6-kl")
    assert "def kl_to_standard_normal" in capsys.readouterr().out


def test_reference_returns_a_passing_answer_silently(capsys):
    answer = reference("5.2.6-kl")
    assert capsys.readouterr().out == ""
    assert check("5.2.6-kl", answer).passed


def test_progress_reports_passed_failed_and_not_attempted(capsys):
    check("5.2.6-kl", reference("5.2.6-kl"))
    check("5.2.1-reparameterize", lambda mu, lv, eps: mu)
    statuses = progress("5.2")
    assert statuses["5.2.6-kl"] == "passed"
    assert statuses["5.2.1-reparameterize"] == "failed"
    assert "passed" in capsys.readouterr().out
    assert statuses._ipython_display_() is None  # printed once, not again as a cell result


@pytest.fixture
def temporary_exercise():
    exercise = Exercise(
        id="0.1-measure",
        section="0.1",
        kind="experiment",
        title="a measured number",
        checker=lambda answer, ctx: core.check_number(answer, ctx["data"].mean().item(), ctx, ()),
        reference=lambda ctx: ctx["data"].mean().item(),
        solution_text="the mean",
        hints=("h1", "h2"),
        needs=("data",),
        demo_context=lambda: {"data": torch.arange(4.0)},
    )
    register(exercise)
    yield exercise
    core._REGISTRY.pop(exercise.id)


def test_missing_context_is_a_clear_error_and_duplicates_are_refused(temporary_exercise):
    with pytest.raises(ValueError, match="data="):
        check("0.1-measure", 1.5)
    assert check("0.1-measure", 1.5, data=torch.arange(4.0)).passed
    assert core.verify_exercise(temporary_exercise) == []
    with pytest.raises(ValueError, match="registered twice"):
        register(temporary_exercise)


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


def _notebook_check_ids(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        re.match(r'check\("([^"]+)"', "".join(c["source"])).group(1)
        for c in cells
        if c["cell_type"] == "code" and "".join(c["source"]).startswith("check(")
    ]


NOTEBOOK_PATHS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.stem for p in NOTEBOOK_PATHS])
def test_every_notebook_has_checked_exercises_with_an_implement(path):
    notebook = path.name.split("-")[0]
    registered = [e.id for e in list_exercises(notebook)]
    assert len(registered) >= 4, f"{notebook}: {len(registered)} exercises, expected >= 4"
    assert any(e.kind == "implement" for e in list_exercises(notebook))
    # the notebook checks exactly its registered exercises, in the package's order
    assert _notebook_check_ids(path) == registered
    parameters = next(
        c
        for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if "parameters" in c["metadata"].get("tags", [])
    )
    assert re.search(r"^solutions = False", "".join(parameters["source"]), re.M)


def test_total_number_of_exercises():
    assert len(NOTEBOOK_PATHS) >= 14
    assert len(list_exercises()) >= max(56, 4 * len(NOTEBOOK_PATHS))
    assert {e.notebook for e in list_exercises()} <= {p.name.split("-")[0] for p in NOTEBOOK_PATHS}
