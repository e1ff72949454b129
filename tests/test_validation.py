"""The shared argument checks of companion.validation: messages name the argument, the value and
the rule; NaN never passes a range; the wrong kind of value is a TypeError."""

import math

import numpy as np
import pytest
import torch

from companion.validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_probability,
    check_same_shape,
    check_str,
    check_str_sequence,
    check_tensor,
    is_integer,
)


def test_check_int_message_names_argument_rule_and_value():
    with pytest.raises(ValueError, match=r"^beam_width must be an integer ≥ 1, got 0$"):
        check_int(0, "beam_width", min=1)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 3\], got 4"):
        check_int(4, "k", min=1, max=3)
    assert check_int(np.int64(3), "k", min=1) == 3
    assert check_int(torch.tensor(2), "k") == 2
    assert is_integer(7) and not is_integer(True) and not is_integer(torch.tensor(1.0))


@pytest.mark.parametrize("bad", [2.0, 2.5, "2", True, None, torch.tensor(2.0), math.nan])
def test_check_int_refuses_non_integers_with_type_error(bad):
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int(bad, "n", min=1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_float_nan_and_inf_never_pass_a_range(bad):
    with pytest.raises(ValueError, match="noise_scale must be a finite number ≥ 0, got"):
        check_float(bad, "noise_scale", min=0.0)
    with pytest.raises(ValueError, match="x must be a finite number, got"):
        check_float(bad, "x")  # no range at all: still not finite


def test_check_float_ranges_open_and_closed():
    assert check_float(0, "x", min=0.0) == 0.0 and isinstance(check_float(1, "x"), float)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got 0"):
        check_float(0.0, "lr", min=0.0, min_open=True)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        check_float(1.0, "x", min=0.0, max=1.0, max_open=True)
    assert check_float(math.inf, "x", min=0.0, allow_inf=True) == math.inf
    with pytest.raises(ValueError, match="x must be a number, got nan"):
        check_float(math.nan, "x", allow_inf=True)
    with pytest.raises(TypeError, match="x must be a number"):
        check_float("1.0", "x")
    with pytest.raises(TypeError, match="x must be a number, got False"):
        check_float(False, "x")
    assert check_float(torch.tensor(0.5), "x") == 0.5
    for p in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError, match=r"ratio must be a finite number in \[0, 1\]"):
            check_probability(p, "ratio")


def test_strings_choices_and_bools():
    assert check_str("a", "s") == "a"
    with pytest.raises(TypeError, match="s must be a string, got None"):
        check_str(None, "s")
    with pytest.raises(ValueError, match="non-empty"):
        check_str("  ", "s", allow_empty=False)
    with pytest.raises(ValueError, match=r"unknown lang 'fr'; choose one of \['en', 'zh'\]"):
        check_choice("fr", "lang", ["en", "zh"])
    with pytest.raises(ValueError, match=r"unknown lang \[1\] \(list\); choose one of \['en'\]"):
        check_choice([1], "lang", {"en": 1})  # unhashable against dict keys: still a ValueError
    assert check_str_sequence(("a", "b"), "refs") == ["a", "b"]
    with pytest.raises(TypeError, match="single string"):
        check_str_sequence("a b", "refs")
    with pytest.raises(TypeError, match=r"refs\[1\] must be a string"):
        check_str_sequence(["a", 3], "refs")
    with pytest.raises(ValueError, match="at least one"):
        check_str_sequence([], "refs")
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match="flag must be True or False"):
        check_bool("no", "flag")


def test_check_tensor_shape_dtype_finite():
    x = torch.zeros(2, 3)
    assert check_tensor(x, "x", dim=2, shape=(None, 3), dtype="float", finite=True) is x
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor.*torch.as_tensor"):
        check_tensor([[0.0]], "x")
    with pytest.raises(ValueError, match=r"x must have shape \[\*, 4\], got \[2, 3\]"):
        check_tensor(x, "x", shape=(None, 4))
    with pytest.raises(ValueError, match="1 dimension"):
        check_tensor(x, "x", dim=1)
    with pytest.raises(TypeError, match="integer tensor"):
        check_tensor(x, "x", dtype="int")
    with pytest.raises(ValueError, match="empty"):
        check_tensor(torch.zeros(0), "x", nonempty=True)
    bad = torch.tensor([0.0, math.nan, math.inf, -math.inf])
    with pytest.raises(ValueError, match=r"x must be finite, but it contains 3 -inf/NaN/inf"):
        check_tensor(bad, "x", finite=True)
    with pytest.raises(ValueError, match=r"mu \[2, 3\], logvar \[2, 2\]"):
        check_same_shape(mu=x, logvar=torch.zeros(2, 2))
