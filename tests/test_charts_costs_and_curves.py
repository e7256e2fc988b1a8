"""The charts of the same-trade widgets: loss against price, fees, funding, wallet split.

Each is built from the engine's values (Account.wallet_loss, round_trip_fees,
fee_share_of_margin, hold_with_funding, Account.state) and read back from its traces and
its summary.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from marginlab import charts
from marginlab.charts import find_trace
from marginlab.engine import (
    FEE_RATES,
    MODES,
    MarginError,
    fee_share_of_margin,
    hold_with_funding,
    round_trip_fees,
)
from marginlab.scenarios import Trade, guide_account

PRICES = np.arange(20_000.0, 100_001.0, 250.0)


def loss_curve(mark: float = 50_000.0, **trade) -> charts.LossCurve:
    order = Trade(**trade)
    accounts = {m: order.account(m) for m in MODES}
    return charts.LossCurve(
        PRICES,
        {m: a.wallet_loss({"BTCUSDT": PRICES}) for m, a in accounts.items()},
        mark,
        {m: a.wallet_loss({"BTCUSDT": mark}) for m, a in accounts.items()},
        {m: a.liquidation_price("BTCUSDT") for m, a in accounts.items()},
        order.wallet_balance,
        side=order.side,
    )


# ------------------------------------------------------------------------- loss curve
def test_loss_curve_guide_same_above_isolated_liquidation_then_parts():
    chart = charts.loss_curve_figure(loss_curve())
    assert chart.summary == (
        "The same trade, above the isolated liquidation price 54,216.87 the two are down "
        "exactly the same; below it they part: isolated has lost 2,000.00 USDT (its margin) "
        "and stops there, while cross keeps losing, up to 10,000.00 USDT at 30,120.48."
    )
    cross = np.asarray(find_trace(chart.figure, "curve-cross").y, dtype=float)
    isolated = np.asarray(find_trace(chart.figure, "curve-isolated").y, dtype=float)
    above = PRICES > 54_216.87
    np.testing.assert_array_equal(cross[above], isolated[above])
    assert (isolated[~above] == 2_000.0).all() and cross.max() == 10_000.0
    # The markers hold the engine's numbers at the mark: isolated 2,000, cross 3,333.33.
    assert list(find_trace(chart.figure, "now-isolated").y) == [2_000.0]
    assert abs(find_trace(chart.figure, "now-cross").y[0] - 10_000 / 3) < 1e-9
    assert find_trace(chart.figure, "liquidation-isolated").text[1].startswith("Isolated")


def test_loss_curve_short_parts_above_the_isolated_price():
    chart = charts.loss_curve_figure(loss_curve(mark=70_000.0, side="short"))
    assert chart.summary.startswith(
        "The same trade, below the isolated liquidation price 65,737.05 the two are down "
        "exactly the same; above it they part"
    )


def test_loss_curve_margin_equal_to_wallet_never_parts():
    # All-in: 10,000 of margin out of a 10,000 wallet (100,000 at 10x): one price for both.
    chart = charts.loss_curve_figure(loss_curve(notional=100_000, wallet_balance=10_000))
    assert "the two are liquidated at the same price" in chart.summary
    assert "so they never part" in chart.summary


def test_loss_curve_without_positions_says_why():
    curve = charts.LossCurve(PRICES, {}, 60_000.0, {}, {}, 10_000, notes={"cross": "refused"})
    chart = charts.loss_curve_figure(curve)
    assert chart.summary == "No position to draw: refused."
    assert find_trace(chart.figure, "notes").text[0] == "no position: refused"


def test_loss_curve_needs_one_value_per_price():
    with pytest.raises(MarginError, match="one value per price"):
        charts.LossCurve(PRICES, {"cross": [1.0]}, 60_000.0, {"cross": 1.0}, {}, 10_000)


# ------------------------------------------------------------------------------- fees
GRID = np.array([1.0, 10.0, 50.0, 100.0, 125.0])


def fees(leverage: float, kind: str) -> charts.FeeCurves:
    shares = {k: fee_share_of_margin(GRID, rate) for k, rate in FEE_RATES.items()}
    account = Trade(leverage=leverage, fee_rate=FEE_RATES[kind]).account("isolated")
    return charts.FeeCurves(GRID, shares, leverage, kind, round_trip_fees(account, "BTCUSDT"))


def test_fees_chart_taker_at_100x_is_ten_percent_of_the_margin():
    chart = charts.fees_figure(fees(100.0, "taker"))
    assert chart.summary == (
        "As taker (0.05% of the notional per fill), opening costs 10.00 USDT and closing at "
        "entry 10.00 USDT: 20.00 USDT, 10.00% of the 200.00 USDT margin at 100x."
    )
    now = find_trace(chart.figure, "now")
    assert (list(now.x), list(now.y)) == ([100.0], [pytest.approx(10.0)])
    np.testing.assert_allclose(find_trace(chart.figure, "share-taker").y, 100 * 0.001 * GRID)


def test_fees_chart_at_10x_names_what_100x_would_cost():
    summary = charts.fees_figure(fees(10.0, "maker")).summary
    # Maker: 20,000 × 0.02 % = 4 each way, 8 of 2,000 = 0.40 %; at 100x 4.00 %.
    assert "opening costs 4.00 USDT and closing at entry 4.00 USDT: 8.00 USDT, 0.40%" in summary
    assert summary.endswith("(at 100x the same fees would be 4.00% of the margin).")


def test_fees_chart_without_a_position_says_why():
    shares = {k: fee_share_of_margin(GRID, rate) for k, rate in FEE_RATES.items()}
    curves = charts.FeeCurves(GRID, shares, 1.0, "taker", None, "order refused")
    assert charts.fees_figure(curves).summary == "No position, so no fees: order refused."


# ---------------------------------------------------------------------------- funding
def funding(rate: float, day: float, leverage: float = 10.0) -> charts.FundingCurves:
    holds = {
        m: hold_with_funding(Trade(leverage=leverage).account(m), intervals=90, rate=rate)
        for m in MODES
    }
    return charts.FundingCurves(holds, 60_000.0, rate, 8.0, day)


def test_funding_chart_isolated_creeps_toward_entry_by_hand():
    chart = charts.funding_figure(funding(0.0001, 10.0))
    # 2 USDT a settlement, 30 in ten days: 1,940 left (60/2,000 = 3.0 % paid); LP
    # (60,000 − 1,940·3)/0.996 = 54,397.59. Cross pays the same 60 of 10,000 (0.6 %).
    assert chart.summary == (
        "Funding 0.010% every 8 hours at a mark of 60,000.00: the position pays 2.00 USDT each "
        "time. After 10 days (30 payments), isolated has 1,940.00 USDT of margin left (3.0% of "
        "it paid) and it liquidates at 54,397.59 (was 54,216.87); cross has 9,940.00 USDT of "
        "cross wallet left (0.6% of it paid) and it liquidates at 30,301.20 (was 30,120.48)."
    )
    now = find_trace(chart.figure, "now-isolated")
    assert list(now.x) == [10.0] and abs(now.y[0] - 54_397.59) < 0.005


def test_funding_chart_liquidation_by_funding_is_marked_and_said():
    # 100x: 200 of margin, 20 USDT a settlement at 0.1 %: gone on day 2.
    chart = charts.funding_figure(funding(0.001, 5.0, leverage=100))
    assert "isolated was liquidated on day 2.00" in chart.summary
    gone = find_trace(chart.figure, "gone-isolated")
    assert list(gone.x) == [2.0] and list(gone.text) == ["liquidated"]
    assert list(find_trace(chart.figure, "gone-cross").text) == [""]


def test_funding_chart_day_must_be_a_settlement():
    with pytest.raises(MarginError, match="day must be the day of a settlement"):
        funding(0.0001, 10.1)


# ---------------------------------------------------------------------------- balance
def test_balance_chart_new_order_takes_from_the_available_balance_in_both_modes():
    states = {}
    for mode in MODES:
        account = guide_account(mode).set_margin_mode("ETHUSDT", mode)
        states[mode] = account.open(
            "ETHUSDT", side="long", price=3_000, leverage=10, margin=3_000
        ).state()
    chart = charts.balance_figure(charts.BalanceSplit(states))
    assert chart.summary == (
        "Wallet split, isolated: BTC 2,000.00 assigned, ETH 3,000.00 assigned; available 5,000.00 "
        "USDT; cross: BTC 2,000.00 in use, ETH 3,000.00 in use; available 5,000.00 USDT."
    )
    assert list(find_trace(chart.figure, "free-cross").x) == [5_000.0]
    assert list(find_trace(chart.figure, "slot1-isolated").text) == ["ETH 3,000.00"]
    assert find_trace(chart.figure, "slot0-cross").marker.pattern.shape == "/"
    assert find_trace(chart.figure, "slot2-cross").x[0] == 0.0  # no third position
    # Segments end to end, each from where the one before it ends (barmode overlay).
    bases = [find_trace(chart.figure, f"{k}-isolated").base for k in ("slot0", "slot1", "free")]
    assert bases == [0.0, 2_000.0, 5_000.0]
    assert chart.figure.layout.barmode == "overlay"


def test_balance_split_needs_both_modes():
    with pytest.raises(MarginError, match="both margin modes"):
        charts.BalanceSplit({"cross": guide_account("cross").state()})


def test_balance_chart_after_liquidation_the_position_is_gone():
    after = guide_account("isolated").liquidate({"BTCUSDT": 50_000}).account
    states = {"isolated": after.state(), "cross": guide_account("cross").state()}
    summary = charts.balance_figure(charts.BalanceSplit(states)).summary
    assert summary.startswith("Wallet split, isolated: no position; available 8,000.00 USDT;")
    assert math.isfinite(after.wallet_balance)
