"""Fig. 5-11 diagram: teacher forcing vs free running."""

import matplotlib.pyplot as plt
import pytest

from companion.plot import plot_teacher_forcing

REF = ["nine", "hundred", "and", "five", "<eos>"]


def test_rows_read_the_reference_and_the_own_output():
    forced = ["nine", "hundred", "five", "five", "<eos>"]
    free = ["nine", "hundred", "five", "<eos>"]
    fig = plot_teacher_forcing(REF, forced, free)
    top, bottom = fig.axes

    def texts(ax, gid):
        return [t for t in ax.texts if t.get_gid() == gid]

    # teacher forcing reads <bos> then the reference; free running reads its own outputs
    assert [t.get_text() for t in texts(top, "read")] == ["<bos>"] + REF[:-1]
    assert [t.get_text() for t in texts(bottom, "read")] == ["<bos>"] + free[:-1]
    assert [t.get_text() for t in texts(bottom, "predicted")] == free
    colors = [t.get_color() for t in texts(top, "predicted")]
    assert colors.count("#c62828") == 1 and colors[2] == "#c62828"  # only "five" at t=2 is wrong
    assert len(top.patches) == 5 and len(bottom.patches) == 4
    plt.close(fig)


def test_bad_inputs_raise_value_error():
    with pytest.raises(ValueError, match="one token per reference"):
        plot_teacher_forcing(REF, REF[:-1], REF)
    with pytest.raises(ValueError, match="non-empty"):
        plot_teacher_forcing(REF, REF, [])
