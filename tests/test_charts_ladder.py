"""Price ladder: one Ladder of Account.levels per mode, every state said on the chart."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import Ladder, find_trace, price_ladder_figure, update_price_ladder
from marginlab.engine import MODES, MarginError, Side
from marginlab.scenarios import Trade, guide_account

TOL_USDT = 1e-6


def _ladder(mark: float | None = None, stop: float | None = None, **trade) -> Ladder:
    """Ladder of one trade (default the guide's) in both modes, from Account.levels."""
    accounts = {mode: Trade(**trade).account(mode) for mode in MODES}
    marks = None if mark is None else {"BTCUSDT": mark}
    return Ladder({m: a.levels("BTCUSDT", marks) for m, a in accounts.items()}, stop_price=stop)


def _level(fig: go.Figure, key: str) -> float:
    """The price of a 2-point level line (both points equal)."""
    y = np.asarray(find_trace(fig, key).y, dtype=float)
    assert y.shape == (2,) and (np.isnan(y).all() or y[0] == y[1])
    return float(y[0])


def test_price_ladder_guide_example_summary_gives_both_liquidation_prices():
    chart = price_ladder_figure(_ladder())
    # Isolated: 60,000·(1 − 0.1)/(1 − 0.004) = 54,216.87, 9.64 % below;
    # cross: (60,000 − 30,000)/0.996 = 30,120.48, 49.80 % below.
    assert chart.summary == (
        "Isolated liquidates at 54,216.87 (9.64% below entry); "
        "cross at 30,120.48 (49.80% below entry); "
        "the mark price is 60,000.00 (at entry)."
    )


def test_price_ladder_lines_hold_the_engines_levels():
    fig = price_ladder_figure(_ladder(mark=58_000, stop=57_000)).figure
    assert abs(_level(fig, "liquidation-isolated") - 54_216.867469879515) <= TOL_USDT
    assert abs(_level(fig, "liquidation-cross") - 30_120.481927710844) <= TOL_USDT
    assert _level(fig, "bankruptcy-isolated") == 54_000.0  # 60,000 − 2,000·3
    assert _level(fig, "bankruptcy-cross") == 30_000.0  # 60,000 − 10,000·3
    assert (_level(fig, "entry"), _level(fig, "mark"), _level(fig, "stop")) == (
        60_000.0,
        58_000.0,
        57_000.0,
    )
    assert find_trace(fig, "stop").visible is True
    assert find_trace(fig, "liquidation-isolated").text[0] == "Liquidation 54,216.87"
    band = np.asarray(find_trace(fig, "band-isolated").y)
    assert band[0] == 60_000.0 and abs(band[2] - 54_216.867469879515) <= TOL_USDT


def test_price_ladder_stop_summary_names_the_stop_distance():
    chart = price_ladder_figure(_ladder(mark=58_000, stop=57_000))
    assert chart.summary.endswith(
        "; the stop is at 57,000.00 (5.00% below entry); "
        "the mark price is 58,000.00 (3.33% below entry)."
    )
    assert find_trace(price_ladder_figure(_ladder()).figure, "stop").visible is False


def test_price_ladder_cross_without_liquidation_price_says_what_covers_a_fall_to_zero():
    # 30,000 USDT behind a 20,000 USDT long: no positive price liquidates it.
    chart = price_ladder_figure(_ladder(wallet_balance=30_000))
    assert (
        "; cross: no liquidation price: the 30,000.00 USDT wallet behind it covers a fall to "
        "zero;" in chart.summary
    )
    assert math.isnan(_level(chart.figure, "liquidation-cross"))
    notes = list(find_trace(chart.figure, "notes").text)
    assert notes[0].startswith("no liquidation price:<br>") and notes[1] == ""
    assert np.isnan(np.asarray(find_trace(chart.figure, "band-cross").y, dtype=float)).all()


def test_price_ladder_isolated_at_1x_says_its_margin_covers_a_fall_to_zero():
    chart = price_ladder_figure(_ladder(leverage=1, wallet_balance=30_000))
    assert chart.summary.startswith(
        "Isolated: no liquidation price: its 20,000.00 USDT margin covers a fall to zero;"
    )


def test_price_ladder_short_liquidates_above_entry():
    chart = price_ladder_figure(_ladder(side="short"))
    # Isolated: 66,000/1.004 = 65,737.05 (9.56 % above); cross: 90,000/1.004 = 89,641.43.
    assert chart.summary.startswith(
        "Isolated liquidates at 65,737.05 (9.56% above entry); "
        "cross at 89,641.43 (49.40% above entry);"
    )
    assert find_trace(chart.figure, "notes").textposition == "top center"


def test_price_ladder_refused_order_says_why_in_both_columns():
    ladder = Ladder(
        {},
        mark_price=60_000,
        notes={m: "order refused: its margin is more than the available balance" for m in MODES},
        entry_price=60_000,
        side="long",
    )
    chart = price_ladder_figure(ladder)
    assert chart.summary.startswith(
        "Isolated: order refused: its margin is more than the available balance; cross: order "
        "refused"
    )
    assert all(text.startswith("order refused:") for text in find_trace(chart.figure, "notes").text)
    assert math.isnan(_level(chart.figure, "liquidation-isolated"))


def test_price_ladder_one_mode_missing_is_not_available_by_default():
    levels = {"cross": guide_account("cross").levels("BTCUSDT")}
    chart = price_ladder_figure(Ladder(levels))
    assert chart.summary.startswith("Isolated: not available; cross at 30,120.48")


def test_update_price_ladder_margin_added_moves_isolated_line_in_place():
    chart = price_ladder_figure(_ladder())
    fig, count = chart.figure, len(chart.figure.data)
    topped = guide_account("isolated").add_margin("BTCUSDT", 1_000)
    levels = {
        "cross": guide_account("cross").levels("BTCUSDT", {"BTCUSDT": 56_000}),
        "isolated": topped.levels("BTCUSDT", {"BTCUSDT": 56_000}),
    }
    summary = update_price_ladder(fig, Ladder(levels))
    # 3,000 USDT margin: (60,000 − 9,000)/0.996 = 51,204.82, 14.66 % below entry.
    assert fig is chart.figure and len(fig.data) == count
    assert abs(_level(fig, "liquidation-isolated") - 51_204.81927710844) <= TOL_USDT
    assert _level(fig, "bankruptcy-isolated") == 51_000.0
    assert _level(fig, "mark") == 56_000.0
    assert summary.startswith("Isolated liquidates at 51,204.82 (14.66% below entry);")


def test_update_price_ladder_refused_then_open_restores_the_levels():
    refused = Ladder({}, mark_price=60_000, entry_price=60_000, side=Side.LONG)
    chart = price_ladder_figure(refused)
    assert list(find_trace(chart.figure, "notes").text) == ["not available", "not available"]
    summary = update_price_ladder(chart.figure, _ladder())
    assert list(find_trace(chart.figure, "notes").text) == ["", ""]
    assert "; cross at 30,120.48 (49.80% below entry);" in summary


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"levels": {}}, MarginError, "entry_price, mark_price, side: give them"),
        ({"levels": {"hedge": None}}, MarginError, "levels must be 'cross' or 'isolated'"),
        ({"levels": {"cross": 54_000.0}}, TypeError, "levels\\['cross'\\] must be PositionLevels"),
        ({"mark_price": 0.0}, MarginError, "mark_price must be greater than 0"),
        ({"stop_price": float("nan")}, MarginError, "stop_price must be finite"),
    ],
    ids=["empty-no-entry", "unknown-mode", "not-levels", "mark-zero", "stop-nan"],
)
def test_ladder_bad_input_raises_naming_the_field(kwargs, error, message):
    base = {"levels": {m: guide_account(m).levels("BTCUSDT") for m in MODES}}
    with pytest.raises(error, match=message):
        Ladder(**(base | kwargs))


def test_update_price_ladder_foreign_figure_raises():
    with pytest.raises(ValueError, match="price_ladder_figure"):
        update_price_ladder(go.Figure(), _ladder())
    with pytest.raises(TypeError, match="ladder must be a Ladder"):
        update_price_ladder(price_ladder_figure(_ladder()).figure, {"entry_price": 1.0})
