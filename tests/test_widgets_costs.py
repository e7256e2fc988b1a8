"""TradingCostsWidget: fees at open and close and funding over days, in both modes.

Hand numbers for the guide's trade (20,000 USDT long, 10x, 10,000 USDT wallet): taker
fees 20,000 × 0.05 % = 10 to open and 10 to close, 1 % of the 2,000 margin (10 % at
100x); funding 0.01 % every 8 hours is 2 USDT a settlement, three a day.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from marginlab.charts import find_trace
from marginlab.engine import FEE_RATES, hold_with_funding, round_trip_fees
from marginlab.scenarios import Trade
from marginlab.widgets import catalog
from marginlab.widgets.costs import TradingCostsWidget

TOL_USDT = 0.005


@pytest.fixture
def widget() -> TradingCostsWidget:
    return TradingCostsWidget()


def test_costs_is_catalogued():
    assert catalog()["trading_costs"] is TradingCostsWidget


def test_costs_default_taker_fees_and_ten_days_of_funding(widget):
    account = Trade(fee_rate=FEE_RATES["taker"]).account("isolated")
    assert widget.fees == round_trip_fees(account, "BTCUSDT")
    assert (widget.fees.open_usdt, widget.fees.close_usdt) == (10.0, 10.0)
    # 30 settlements of 2 USDT: 1,940 left; LP (60,000 − 1,940·3)/0.996 = 54,397.59.
    assert abs(widget.backing("isolated") - 1_940.0) < 1e-9
    assert abs(widget.liquidation_price("isolated") - 54_397.59) < TOL_USDT
    assert widget.summary.startswith(
        "20,000.00 USDT long position, 10x (margin 2,000.00 USDT), from a 10,000.00 USDT "
        "wallet. As taker (0.05% of the notional per fill), opening costs 10.00 USDT and "
        "closing at entry 10.00 USDT: 20.00 USDT, 1.00% of the 2,000.00 USDT margin at 10x"
    )


def test_costs_at_100x_taker_fees_eat_ten_percent_of_the_margin(widget):
    widget.controls["leverage"].value = 100
    assert widget.fees.margin_usdt == 200.0
    assert widget.fees.share_of_margin == pytest.approx(0.10, abs=1e-12)
    assert "20.00 USDT, 10.00% of the 200.00 USDT margin at 100x" in widget.summary
    now = find_trace(widget.figures[0], "now")
    assert list(now.x) == [100] and now.y[0] == pytest.approx(10.0)


def test_costs_maker_order_uses_the_maker_rate(widget):
    widget.controls["order_type"].value = "maker"
    assert (widget.fees.open_usdt, widget.fees.close_usdt) == (4.0, 4.0)
    assert "As maker (0.02% of the notional per fill)" in widget.summary


def test_costs_funding_is_the_engines_hold_day_by_day(widget):
    widget.controls["funding_rate"].value = 0.0005
    account = Trade(fee_rate=FEE_RATES["taker"]).account("isolated")
    hold = hold_with_funding(account, intervals=90, rate=0.0005)
    for day in (0, 1, 7, 30):
        widget.controls["days"].value = day
        assert widget.liquidation_price("isolated") == hold.liquidation_price[3 * day]
        assert widget.backing("isolated") == hold.backing_usdt[3 * day]
    drawn = np.asarray(find_trace(widget.figures[1], "price-isolated").y, dtype=float)
    np.testing.assert_array_equal(drawn, hold.liquidation_price)


def test_costs_same_funding_moves_both_prices_alike_a_larger_share_of_isolated(widget):
    widget.controls["days"].value = 30
    isolated = widget.drawn.funding.holds["isolated"]
    cross = widget.drawn.funding.holds["cross"]
    assert np.all(np.diff(isolated.liquidation_price) > 0)  # every payment, closer to entry
    moved_iso = isolated.liquidation_price[-1] - isolated.liquidation_price[0]
    moved_cross = cross.liquidation_price[-1] - cross.liquidation_price[0]
    # The same 180 USDT paid moves either LP by 180/(Q·0.996): isolated ends 5.3 % from
    # entry instead of 9.6 %; cross stays near 50 %.
    assert moved_iso == pytest.approx(moved_cross, rel=1e-9)
    assert (60_000 - isolated.liquidation_price[-1]) / 60_000 < 0.09


def test_costs_100x_isolated_liquidated_by_funding_is_marked(widget):
    widget.controls["leverage"].value = 100
    widget.controls["funding_rate"].value = 0.001  # 20 USDT a settlement on 200 of margin
    widget.controls["days"].value = 5
    assert "isolated was liquidated on day 2.00" in widget.summary
    assert list(find_trace(widget.figures[1], "gone-isolated").text) == ["liquidated"]
    assert math.isnan(widget.backing("isolated"))


def test_costs_short_receives_funding_at_a_positive_rate(widget):
    widget.controls["side"].value = "short"
    assert "the position receives 2.00 USDT each time" in widget.summary
    assert widget.backing("isolated") == 2_060.0  # 2,000 + 30 × 2


def test_costs_refused_order_explained_in_both_charts(widget):
    widget.controls["leverage"].value = 1
    assert widget.message == "" and widget.fees is None
    assert "No position, so no fees: order refused" in widget.summary
    assert find_trace(widget.figures[1], "entry").text[0].startswith("order refused")


def test_costs_nan_funding_rate_refused_keeps_last_state(widget):
    before = widget.summary
    widget.controls["funding_rate"].value = float("nan")
    assert "rate" in widget.message
    assert widget.summary == before
