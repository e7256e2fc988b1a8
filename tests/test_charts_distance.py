"""Liquidation distance against leverage: one order's curves from Account.leverage_curve.

Hand numbers, bracket 1 (MMR 0.004): an isolated long at L is 1 − (1 − 1/L)/0.996 from
entry whatever its size; the guide's 20,000 USDT long in cross is 1 − 30,120.48/60,000 =
49.80 % from entry at every leverage.
"""

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import (
    DistanceCurves,
    find_trace,
    liquidation_distance_figure,
    update_liquidation_distance,
)
from marginlab.charts.distance import NOTE_SPAN
from marginlab.engine import MODES, MarginError
from marginlab.scenarios import Trade

GRID = np.array([1.0, 2.0, 5.0, 10.0, 20.0, 100.0, 125.0])


def _curves(current: float = 10.0, **trade) -> DistanceCurves:
    order = Trade(**trade)
    return DistanceCurves({m: order.leverage_curve(m, GRID) for m in MODES}, current)


def test_liquidation_distance_guide_marks_10x_and_names_the_refused_1x():
    chart = liquidation_distance_figure(_curves())
    assert chart.summary == (
        "At 10x, isolated liquidates 9.64% from entry and cross 49.80% from entry; refused up "
        "to 1x: the margin is more than the available balance."
    )
    now = find_trace(chart.figure, "now-isolated")
    assert list(now.x) == [10.0] and list(now.text) == ["9.64%"]
    refused = find_trace(chart.figure, "refused")
    assert list(refused.x) == [1.0] and list(refused.y) == [0.0]


def _note(chart) -> tuple[float, str]:
    note = find_trace(chart.figure, "refused-note")
    return note.y[0], note.text[0]


def _right_part(fig, key: str) -> np.ndarray:
    """A curve's values where the refusal note is written (the right NOTE_SPAN of the axis)."""
    x = np.asarray(find_trace(fig, key).x, dtype=float)
    y = np.asarray(find_trace(fig, key).y, dtype=float)
    return y[x >= x[-1] - NOTE_SPAN * (x[-1] - x[0])]


def test_liquidation_distance_refusal_note_sits_between_the_lines_not_on_them():
    # The guide's long: cross flat at 49.80 %, isolated under 2 % from 50x on, the fall to
    # zero at 100 %. The widest empty band of the right part is 49.80-100: the note goes
    # at its top, below the fall-to-zero line, and says what the marker on the axis means.
    chart = liquidation_distance_figure(_curves())
    y, text = _note(chart)
    assert 95.0 < y < 100.0
    assert text.startswith("× refused up to 1x: the margin is more")
    assert find_trace(chart.figure, "refused").text is None  # the marker carries no text
    # A 17,000 wallet at 100x: cross at 84.94 % with its marker's label above it; the
    # widest band left is under the cross line, down to the isolated curve.
    chart = liquidation_distance_figure(_curves(current=100.0, wallet_balance=17_000))
    cross = _right_part(chart.figure, "curve-cross")
    isolated = _right_part(chart.figure, "curve-isolated")
    y, _ = _note(chart)
    assert np.nanmax(isolated) < y < np.nanmin(cross)
    assert y > np.nanmin(cross) - 5.0  # right under the line, as high as the band allows


def test_liquidation_distance_short_note_under_the_top_line():
    chart = liquidation_distance_figure(_curves(side="short"))
    cross = _right_part(chart.figure, "curve-cross")
    y, _ = _note(chart)
    assert np.nanmax(_right_part(chart.figure, "curve-isolated")) < y < np.nanmin(cross)


def test_liquidation_distance_nothing_refused_has_no_note():
    chart = liquidation_distance_figure(_curves(wallet_balance=30_000))
    y, text = _note(chart)
    assert y is None and text == ""
    assert list(find_trace(chart.figure, "refused").x) == []


def test_liquidation_distance_isolated_curve_by_hand_and_cross_flat():
    fig = liquidation_distance_figure(_curves()).figure
    isolated = np.asarray(find_trace(fig, "curve-isolated").y, dtype=float)
    cross = np.asarray(find_trace(fig, "curve-cross").y, dtype=float)
    expected = 100 * (1 - (1 - 1 / GRID[1:]) / 0.996)
    np.testing.assert_allclose(isolated[1:], expected, rtol=0, atol=1e-9)
    # The same size at every leverage: the cross distance never moves (1x is refused).
    assert np.isnan(cross[0]) and np.allclose(cross[1:], cross[1], rtol=0, atol=1e-12)
    assert abs(cross[1] - 100 * (1 - 30_120.481927710844 / 60_000)) < 1e-9


def test_liquidation_distance_no_price_drawn_at_a_fall_to_zero_and_said():
    # 30,000 behind a 20,000 long: cross has no liquidation price; isolated 1x neither.
    chart = liquidation_distance_figure(_curves(current=1.0, wallet_balance=30_000))
    cross = np.asarray(find_trace(chart.figure, "curve-cross").y, dtype=float)
    assert (cross == 100.0).all()  # a fall to zero: 100 % of entry
    assert list(find_trace(chart.figure, "now-cross").text) == ["no liquidation price"]
    floor = find_trace(chart.figure, "floor")
    assert list(floor.y) == [100.0, 100.0] and floor.text[0] == "a fall to zero"
    assert chart.summary == (
        "At 1x, isolated has no liquidation price (its margin covers a fall to zero) and "
        "cross has no liquidation price (the wallet covers a fall to zero)."
    )


def test_liquidation_distance_short_has_no_floor_line():
    chart = liquidation_distance_figure(_curves(side="short"))
    floor = find_trace(chart.figure, "floor")  # no points: the trace stays, nothing drawn
    assert list(floor.y) == [None, None] and list(floor.text) == ["", ""]
    # Short isolated at 10x: 66,000/1.004 = 65,737.05, 9.56 % above entry.
    assert chart.summary.startswith("At 10x, isolated liquidates 9.56% from entry")


def test_liquidation_distance_bracket_refusal_named_from_its_first_leverage():
    # 500,000 USDT is bracket 2 (at most 100x): 125x is refused; below 10x the margin
    # (50,000 or more) is more than the 50,000 wallet can give with nothing left.
    chart = liquidation_distance_figure(
        _curves(current=125.0, notional=500_000, wallet_balance=50_000)
    )
    assert "isolated refuses the order (above the bracket's maximum leverage" in chart.summary
    assert "from 125x: above the bracket's maximum leverage for this size" in chart.summary
    assert list(find_trace(chart.figure, "now-isolated").text) == ["refused"]


def test_update_liquidation_distance_bigger_wallet_moves_cross_only():
    fig = liquidation_distance_figure(_curves()).figure
    isolated_before = np.asarray(find_trace(fig, "curve-isolated").y, dtype=float).copy()
    summary = update_liquidation_distance(fig, _curves(wallet_balance=15_000))
    np.testing.assert_array_equal(find_trace(fig, "curve-isolated").y[1:], isolated_before[1:])
    # 15,000 pool: LP = (60,000 − 45,000)/0.996 = 15,060.24; 1 − LP/60,000 = 74.90 %.
    assert summary.startswith("At 10x, isolated liquidates 9.64% from entry and cross 74.90%")


def test_update_liquidation_distance_on_figure_widget_moves_the_markers():
    widget = go.FigureWidget(liquidation_distance_figure(_curves()).figure)
    update_liquidation_distance(widget, _curves(current=20.0))
    assert list(find_trace(widget, "now-cross").x) == [20.0]
    assert list(find_trace(widget, "now-cross").text) == ["49.80%"]  # the same size


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: DistanceCurves({"cross": Trade().leverage_curve("cross", GRID)}, 10.0), "both"),
        (lambda: _curves(current=7.0), "current_leverage must be on the grid"),
    ],
    ids=["one-mode", "off-grid"],
)
def test_distance_curves_bad_input_raises(build, message):
    with pytest.raises(MarginError, match=message):
        build()


def test_liquidation_distance_marker_labels_sit_off_their_curves():
    # The guide at 10x: isolated 9.64 % with cross far above; its curve falls to the
    # right through the space below-right of its marker, so its label goes above-right.
    fig = liquidation_distance_figure(_curves()).figure
    assert find_trace(fig, "now-isolated").textposition == "top right"
    assert find_trace(fig, "now-cross").textposition == "top left"  # flat: either side
    # Both without a liquidation price (100 %): one label above, one below.
    fig = liquidation_distance_figure(_curves(current=1.0, wallet_balance=30_000)).figure
    assert find_trace(fig, "now-cross").textposition == "top left"
    assert find_trace(fig, "now-isolated").textposition == "bottom right"
    # At 125x, the right end of the axis: labels go left, towards the middle.
    fig = liquidation_distance_figure(_curves(current=125.0)).figure
    assert find_trace(fig, "now-isolated").textposition == "top left"
    assert find_trace(fig, "now-cross").textposition == "top left"
