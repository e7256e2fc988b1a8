"""Price ladder: trace data and summary from the engine's prices, updated in place."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import find_trace, price_ladder_figure, update_price_ladder
from marginlab.engine import Account, bankruptcy_price
from marginlab.scenarios import GUIDE, guide_account

TOL_USDT = 1e-6


def _guide_inputs(mark_price: float = 60_000.0, stop_price: float | None = None) -> dict:
    """Ladder inputs for the guide's BTC long, computed by the engine."""
    isolated, cross = guide_account("isolated"), guide_account("cross")
    return {
        "entry_price": GUIDE.entry_price,
        "mark_price": mark_price,
        "cross_liquidation_price": cross.liquidation_price("BTCUSDT"),
        "isolated_liquidation_price": isolated.liquidation_price("BTCUSDT"),
        "cross_bankruptcy_price": bankruptcy_price(
            side="long", quantity=GUIDE.quantity, entry_price=60_000, wallet_balance=10_000
        ),
        "isolated_bankruptcy_price": bankruptcy_price(
            side="long", quantity=GUIDE.quantity, entry_price=60_000, wallet_balance=2_000
        ),
        "stop_price": stop_price,
    }


def _level(fig: go.Figure, key: str) -> float:
    """The price of a 2-point level line (both points equal)."""
    y = np.asarray(find_trace(fig, key).y, dtype=float)
    assert y.shape == (2,) and (np.isnan(y).all() or y[0] == y[1])
    return float(y[0])


def test_price_ladder_guide_example_summary_gives_both_liquidation_prices():
    chart = price_ladder_figure(**_guide_inputs())
    # Isolated: 60,000·(1 − 0.1)/(1 − 0.004) = 54,216.87, (60,000 − 54,216.87)/60,000 = 9.64 %;
    # cross: (60,000 − 30,000)/0.996 = 30,120.48, 29,879.52/60,000 = 49.80 %.
    assert chart.summary == (
        "Isolated liquidates at 54,216.87 (9.64% below entry); "
        "cross at 30,120.48 (49.80% below entry); "
        "the mark price is 60,000.00 (at entry)."
    )


def test_price_ladder_guide_example_lines_hold_engine_prices():
    inputs = _guide_inputs(mark_price=58_000, stop_price=57_000)
    fig = price_ladder_figure(**inputs).figure
    assert abs(_level(fig, "liquidation-isolated") - 54_216.867469879515) <= TOL_USDT
    assert abs(_level(fig, "liquidation-cross") - 30_120.481927710844) <= TOL_USDT
    assert _level(fig, "bankruptcy-isolated") == 54_000.0  # 60,000 − 2,000·3
    assert _level(fig, "bankruptcy-cross") == 30_000.0  # 60,000 − 10,000·3
    assert _level(fig, "entry") == 60_000.0
    assert _level(fig, "mark") == 58_000.0
    assert _level(fig, "stop") == 57_000.0
    assert find_trace(fig, "stop").visible is True
    assert find_trace(fig, "liquidation-isolated").text[0] == "Liquidation 54,216.87"
    # The isolated band runs from entry down to the isolated liquidation price.
    band = np.asarray(find_trace(fig, "band-isolated").y)
    assert band[0] == 60_000.0 and abs(band[2] - 54_216.867469879515) <= TOL_USDT


def test_price_ladder_stop_given_summary_names_stop_distance():
    chart = price_ladder_figure(**_guide_inputs(mark_price=58_000, stop_price=57_000))
    # Stop: 3,000/60,000 = 5.00 % below entry; mark: 2,000/60,000 = 3.33 % below.
    assert chart.summary.endswith(
        "; the stop is at 57,000.00 (5.00% below entry); "
        "the mark price is 58,000.00 (3.33% below entry)."
    )


def test_price_ladder_no_stop_hides_stop_line():
    fig = price_ladder_figure(**_guide_inputs()).figure
    assert find_trace(fig, "stop").visible is False
    assert "stop" not in price_ladder_figure(**_guide_inputs()).summary


def test_price_ladder_cross_without_liquidation_price_says_so():
    # 30,000 USDT behind a 20,000 USDT long: (30,000 − 20,000)/(Q·(0.004 − 1)) < 0, no price.
    rich = Account(wallet_balance=30_000).open(
        "BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000
    )
    inputs = _guide_inputs() | {
        "cross_liquidation_price": rich.liquidation_price("BTCUSDT"),
        "cross_bankruptcy_price": float("nan"),
    }
    assert math.isnan(inputs["cross_liquidation_price"])
    chart = price_ladder_figure(**inputs)
    assert "; cross cannot be liquidated by price;" in chart.summary
    assert math.isnan(_level(chart.figure, "liquidation-cross"))
    assert find_trace(chart.figure, "liquidation-cross").text[0] == ""
    assert list(find_trace(chart.figure, "notes").text) == ["cannot be liquidated by price", ""]
    assert np.isnan(np.asarray(find_trace(chart.figure, "band-cross").y, dtype=float)).all()


def test_price_ladder_short_liquidates_above_entry():
    isolated = (
        Account(wallet_balance=10_000)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="short", price=60_000, leverage=10, margin=2_000)
    )
    cross = Account(wallet_balance=10_000).open(
        "BTCUSDT", side="short", price=60_000, leverage=10, margin=2_000
    )
    chart = price_ladder_figure(
        entry_price=60_000,
        mark_price=60_000,
        cross_liquidation_price=cross.liquidation_price("BTCUSDT"),
        isolated_liquidation_price=isolated.liquidation_price("BTCUSDT"),
        cross_bankruptcy_price=90_000,
        isolated_bankruptcy_price=66_000,
        side="short",
    )
    # Isolated: 66,000/1.004 = 65,737.05 (9.56 % above); cross: 90,000/1.004 = 89,641.43 (49.40 %).
    assert chart.summary.startswith(
        "Isolated liquidates at 65,737.05 (9.56% above entry); "
        "cross at 89,641.43 (49.40% above entry);"
    )


def test_update_price_ladder_margin_added_moves_isolated_line_in_place():
    chart = price_ladder_figure(**_guide_inputs())
    fig, traces_before = chart.figure, len(chart.figure.data)
    topped_up = guide_account("isolated").add_margin("BTCUSDT", 1_000)
    summary = update_price_ladder(
        fig,
        **_guide_inputs(mark_price=56_000)
        | {
            "isolated_liquidation_price": topped_up.liquidation_price("BTCUSDT"),
            "isolated_bankruptcy_price": 51_000.0,  # 60,000 − 3,000·3
        },
    )
    # 3,000 USDT margin: (60,000 − 9,000)/0.996 = 51,204.82, 14.66 % below entry.
    assert fig is chart.figure and len(fig.data) == traces_before
    assert abs(_level(fig, "liquidation-isolated") - 51_204.81927710844) <= TOL_USDT
    assert _level(fig, "bankruptcy-isolated") == 51_000.0
    assert _level(fig, "mark") == 56_000.0
    assert summary.startswith("Isolated liquidates at 51,204.82 (14.66% below entry);")
    assert find_trace(fig, "mark").text[1] == "Mark 56,000.00"


def test_update_price_ladder_on_figure_widget_changes_trace_data():
    widget = go.FigureWidget(price_ladder_figure(**_guide_inputs()).figure)
    update_price_ladder(widget, **_guide_inputs(mark_price=55_000, stop_price=57_500))
    assert _level(widget, "mark") == 55_000.0
    assert _level(widget, "stop") == 57_500.0
    assert find_trace(widget, "stop").visible is True


def test_update_price_ladder_does_not_touch_layout():
    fig = price_ladder_figure(**_guide_inputs()).figure
    layout_before = fig.layout.to_plotly_json()
    update_price_ladder(fig, **_guide_inputs(mark_price=50_000, stop_price=55_000))
    assert fig.layout.to_plotly_json() == layout_before


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("mark_price", 0.0, ValueError),
        ("entry_price", float("nan"), ValueError),
        ("stop_price", -5.0, ValueError),
        ("isolated_liquidation_price", "54k", TypeError),
    ],
    ids=["mark-zero", "entry-nan", "stop-negative", "liquidation-text"],
)
def test_price_ladder_bad_input_raises_naming_parameter(name, value, error):
    with pytest.raises(error, match=name):
        price_ladder_figure(**_guide_inputs() | {name: value})


def test_update_price_ladder_foreign_figure_raises():
    with pytest.raises(ValueError, match="price_ladder_figure"):
        update_price_ladder(go.Figure(), **_guide_inputs())


def _cross_only_inputs() -> dict:
    """The guide's long in cross; isolated has no position (e.g. an order it cannot open)."""
    return _guide_inputs() | {
        "isolated_liquidation_price": float("nan"),
        "isolated_bankruptcy_price": float("nan"),
    }


def _nan_bankruptcy(mode: str) -> dict:
    return {f"{mode}_bankruptcy_price": float("nan")}


def test_price_ladder_unavailable_mode_says_not_available():
    chart = price_ladder_figure(**_cross_only_inputs(), unavailable_modes=["isolated"])
    # Cross: (60,000 − 30,000)/0.996 = 30,120.48, 49.80 % below entry.
    assert chart.summary == (
        "Isolated is not available; cross at 30,120.48 (49.80% below entry); "
        "the mark price is 60,000.00 (at entry)."
    )
    assert list(find_trace(chart.figure, "notes").text) == ["", "not available"]
    assert math.isnan(_level(chart.figure, "liquidation-isolated"))
    assert np.isnan(np.asarray(find_trace(chart.figure, "band-isolated").y, dtype=float)).all()


def test_price_ladder_nan_price_without_unavailable_still_cannot_be_liquidated():
    chart = price_ladder_figure(**_cross_only_inputs())
    assert chart.summary.startswith("Isolated cannot be liquidated by price; cross at 30,120.48")
    assert list(find_trace(chart.figure, "notes").text) == ["", "cannot be liquidated by price"]


def test_update_price_ladder_unavailable_then_available_restores_levels():
    chart = price_ladder_figure(
        **_guide_inputs() | {"cross_liquidation_price": float("nan")} | _nan_bankruptcy("cross"),
        unavailable_modes=("Cross",),  # any case, like the engine's MarginMode.parse
    )
    assert chart.summary.startswith("Isolated liquidates at 54,216.87 (9.64% below entry); ")
    assert "; cross is not available;" in chart.summary
    summary = update_price_ladder(chart.figure, **_guide_inputs())
    assert list(find_trace(chart.figure, "notes").text) == ["", ""]
    assert abs(_level(chart.figure, "liquidation-cross") - 30_120.481927710844) <= TOL_USDT
    assert "; cross at 30,120.48 (49.80% below entry);" in summary


@pytest.mark.parametrize(
    ("unavailable", "error", "message"),
    [
        (["isolated"], ValueError, "isolated_liquidation_price must be NaN when 'isolated'"),
        (["both"], ValueError, "unavailable_modes must be 'cross' or 'isolated', got 'both'"),
        ("isolated", TypeError, "unavailable_modes must be a collection of modes"),
        (3, TypeError, "unavailable_modes must be a collection of modes, got 3"),
    ],
    ids=["price-given", "unknown-mode", "bare-string", "not-iterable"],
)
def test_price_ladder_bad_unavailable_modes_raises(unavailable, error, message):
    with pytest.raises(error, match=message):
        price_ladder_figure(**_guide_inputs(), unavailable_modes=unavailable)
