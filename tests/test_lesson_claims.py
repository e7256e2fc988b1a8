"""Every general sentence a lesson says next to a widget holds at every position of its
controls: the widget is swept over its controls (a grid of sizes, leverages, wallets,
sides, prices, stops, paths, triggers, rates) and the claim is checked at each position.

A sentence that a widget contradicts at some slider position is a bug (issue 12); the
lesson named in each test is where the sentence stands.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from marginlab.engine import MarginMode, simulate_stop_levels
from marginlab.scenarios import GUIDE, guide_account
from marginlab.widgets import catalog
from marginlab.widgets.stoploss import MODELS, PATHS, STOP_GRID

CROSS, ISOLATED = MarginMode.CROSS, MarginMode.ISOLATED
LEVERAGES = (1, 2, 3, 5, 10, 20, 50, 100, 125)
NOTIONALS = (1_000.0, 20_000.0, 100_000.0, 500_000.0)
BALANCES = (500.0, 10_000.0, 50_000.0)
SIDES = ("long", "short")
TOL = 1e-6  # USDT


def same(a: float, b: float) -> bool:
    """Equal prices, NaN (no liquidation price) equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOL


def distance(price: float, entry: float = GUIDE.entry_price) -> float:
    return abs(price - entry) / entry


# ------------------------------------------------------------------ lessons 00, 02, 03
@pytest.fixture(scope="module")
def threshold():
    return catalog()["liquidation_threshold"]()


@pytest.mark.parametrize(
    ("notional", "balance", "side"), list(itertools.product(NOTIONALS, BALANCES, SIDES))
)
def test_lessons_00_03_size_held_leverage_moves_isolated_toward_entry_never_cross(
    threshold, notional, balance, side
):
    # 00: "drag Leverage (x) to the right and watch the isolated liquidation price move
    # toward entry while the cross one stays where it is"; 03: "its leverage slider changes
    # the margin, so the isolated price moves and the cross one does not. Where the exchange
    # would refuse the order ... both charts say so instead."
    controls = threshold.controls
    controls["notional"].value, controls["balance"].value = notional, balance
    controls["side"].value = side
    accepted = []
    for leverage in LEVERAGES:
        controls["leverage"].value = leverage
        iso, cross = threshold.isolated_liquidation_price, threshold.cross_liquidation_price
        if threshold.refusal:
            assert math.isnan(iso) and math.isnan(cross)
            assert threshold.refusal in threshold.summary
            continue
        accepted.append((leverage, iso, cross))
    crosses = [cross for _, _, cross in accepted]
    assert all(same(c, crosses[0]) for c in crosses), crosses
    isolated = [distance(iso) for _, iso, _ in accepted if not math.isnan(iso)]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(isolated)), isolated


@pytest.mark.parametrize(("notional", "side"), list(itertools.product(NOTIONALS[:3], SIDES)))
def test_lesson_02_more_wallet_moves_cross_away_and_isolated_not_at_all(threshold, notional, side):
    # 02: "you move 5,000 USDT more into the futures wallet. Does the cross liquidation price
    # move closer to entry or further away? Does the isolated one move at all?"
    controls = threshold.controls
    controls["notional"].value, controls["side"].value = notional, side
    controls["leverage"].value = 10
    before = None
    for balance in (5_000.0, 10_000.0, 15_000.0, 20_000.0, 50_000.0):
        controls["balance"].value = balance
        if threshold.refusal:
            continue
        now = threshold.isolated_liquidation_price, threshold.cross_liquidation_price
        if before is not None:
            assert same(now[0], before[0])
            cross_before, cross_now = before[1], now[1]
            if not math.isnan(cross_now):
                assert distance(cross_now) > distance(cross_before)
        before = now


# ------------------------------------------------------------------------- lesson 04
@pytest.fixture(scope="module")
def loss():
    return catalog()["loss_at_liquidation"]()


@pytest.mark.parametrize(
    ("notional", "leverage", "balance", "side"),
    list(
        itertools.product((5_000.0, 20_000.0, 60_000.0), (2, 5, 10, 50), (5_000.0, 10_000.0), SIDES)
    ),
)
def test_lesson_04_loss_curve_reads_as_the_lesson_says(loss, notional, leverage, balance, side):
    # 04: "Down to the isolated liquidation price both are down exactly the same. There
    # isolated loses its whole margin at once ...: down to the bankruptcy price isolated has
    # lost more; past it, cross has. Beyond, isolated stays at its margin and cross keeps
    # losing until its own liquidation price takes the whole [cross wallet]. ... with the
    # margin equal to the whole wallet the two are liquidated at the same price and never
    # part; when the wallet covers a fall to zero, cross has no liquidation price and can
    # lose up to the whole notional."
    controls = loss.controls
    for name, value in (("notional", notional), ("leverage", leverage), ("balance", balance)):
        controls[name].value = value
    controls["side"].value = side
    if loss.refusal:
        assert loss.refusal in loss.summary
        return
    from marginlab.widgets.loss import PRICE_GRID

    curve = loss.loss_curve
    levels = loss.account("isolated").levels("BTCUSDT")
    iso_lp, bp = levels.liquidation_price, levels.bankruptcy_price
    margin = levels.backing_usdt
    sign = 1 if side == "long" else -1
    before = sign * (PRICE_GRID - iso_lp) > 0  # on the entry side of the isolated LP
    np.testing.assert_array_equal(curve[CROSS][before], curve[ISOLATED][before])
    past = ~before
    assert np.all(np.abs(curve[ISOLATED][past] - margin) <= TOL)
    between = past & (sign * (PRICE_GRID - bp) > 0)
    assert np.all(curve[ISOLATED][between] >= curve[CROSS][between] - TOL)
    beyond = sign * (PRICE_GRID - bp) < 0
    assert np.all(curve[CROSS][beyond] >= curve[ISOLATED][beyond] - TOL)
    cross_lp = loss.liquidation_price[CROSS]
    assert curve[CROSS].max() <= balance + TOL
    if math.isnan(cross_lp):
        assert curve[CROSS].max() <= notional + TOL
    if abs(margin - balance) <= TOL:
        assert same(cross_lp, iso_lp) and "never part" in loss.summary


# ------------------------------------------------------------------------- lesson 06
@pytest.mark.parametrize("price", (52_000.0, 60_000.0, 66_000.0))
@pytest.mark.parametrize("new_order", (0.0, 1_000.0, 3_000.0))
def test_lesson_06_add_moves_away_remove_moves_toward_new_order_shares_the_pool(price, new_order):
    # 06: "Add margin ... its LP moves away from entry"; "only a top-up or an unrealized
    # profit can come back out"; "The ETH order takes its margin from the available balance in
    # both accounts ... in cross ... [BTC's] liquidation price moves toward entry".
    widget = catalog()["adding_margin"]()
    base_cross = widget.cross_liquidation_price
    base_available = widget.available
    widget.controls["new_order"].value = new_order
    if new_order:
        assert widget.cross_liquidation_price > base_cross
        for mode in ("cross", "isolated"):
            assert abs(base_available[mode] - widget.available[mode] - new_order) <= TOL
    widget.controls["price"].value = price
    if widget.liquidated[ISOLATED]:
        return
    if price <= GUIDE.entry_price:
        assert widget.removable == 0.0  # its initial margin must stay
    start = widget.isolated_liquidation_price
    widget.add_margin(1_000)
    added = widget.isolated_liquidation_price
    assert added < start
    widget.remove_margin(500)
    assert added < widget.isolated_liquidation_price < start  # back toward entry


# ------------------------------------------------------------------------- lesson 10
@pytest.mark.parametrize(
    ("leverage", "rate", "side"),
    list(itertools.product((5, 10, 40, 100), (-0.001, 0.0001, 0.001, 0.003), SIDES)),
)
def test_lesson_10_same_funding_both_modes_same_price_move_larger_share_isolated(
    leverage, rate, side
):
    # 10: "Both modes pay the same funding ...; It takes [a larger share] of the isolated
    # margin [than] of the cross wallet. Both liquidation prices move toward entry by [the
    # same amount]"; fees "the same in both modes", 2 f L of the margin.
    widget = catalog()["trading_costs"]()
    controls = widget.controls
    controls["leverage"].value, controls["side"].value = leverage, side
    controls["funding_rate"].value = rate
    if widget.drawn.both.refusal:
        return
    fees = widget.fees
    assert abs(fees.share_of_margin - 2 * 0.0005 * leverage) <= 1e-9
    holds = widget.drawn.funding.holds
    iso, cross = holds[ISOLATED], holds[CROSS]
    assert iso.payment_usdt == cross.payment_usdt
    alive = (iso.intervals < iso.liquidated_at) | (iso.liquidated_at < 0)
    np.testing.assert_allclose(iso.paid_usdt[alive], cross.paid_usdt[alive], atol=TOL)
    assert np.all(np.abs(iso.paid_share[alive]) >= np.abs(cross.paid_share[alive]) - 1e-12)
    has_price = alive & ~np.isnan(cross.liquidation_price) & ~np.isnan(iso.liquidation_price)
    moved_iso = iso.liquidation_price[has_price] - iso.liquidation_price[0]
    moved_cross = cross.liquidation_price[has_price] - cross.liquidation_price[0]
    np.testing.assert_allclose(moved_iso, moved_cross, atol=1e-6)


# ------------------------------------------------------------------ lessons 11, 12, 13
@pytest.fixture(scope="module")
def hand_drawn():
    """Every stop of the grid on every hand-drawn path, per mode and trigger (the widget's)."""
    return catalog()["stop_loss"]()._paths


def _exit(levels, stop):
    result = levels.result(float(stop))
    key = levels.key
    return (
        int(result.stopped_at[key][0]),
        int(result.liquidated_at[key][0]),
        float(result.loss_total_usdt[0]),
    )


@pytest.mark.parametrize("path", [p for p in PATHS if p != "last_price_wick"])
def test_lesson_11_an_isolated_stop_past_the_liquidation_price_never_fires(hand_drawn, path):
    # 11: "a stop-loss must be placed closer to entry than the liquidation price" (where the
    # last price is the mark, liquidation comes first).
    lp = guide_account("isolated").liquidation_price("BTCUSDT")
    for trigger in ("last", "mark"):
        levels = hand_drawn[path][ISOLATED, trigger]
        for stop in STOP_GRID[STOP_GRID < lp]:
            assert _exit(levels, stop)[0] < 0, (path, trigger, stop)


def test_lesson_12_no_stop_keeps_a_gap_below_the_isolated_margin(hand_drawn):
    # 12: "Which stop prices lose less than the whole isolated margin there?" (none); cross
    # pays the whole gap for every stop that fires.
    for trigger in ("last", "mark"):
        iso = hand_drawn["flash_crash_wick"][ISOLATED, trigger]
        cross = hand_drawn["flash_crash_wick"][CROSS, trigger]
        for stop in STOP_GRID:
            assert abs(_exit(iso, stop)[2] - GUIDE.margin) <= TOL
            stopped, _, cross_loss = _exit(cross, stop)
            if stopped >= 0:
                assert abs(cross_loss - GUIDE.quantity * (GUIDE.entry_price - 52_800)) <= TOL


def test_lesson_12_every_stop_that_fires_on_the_dip_locks_in_a_loss(hand_drawn):
    # 12: "The stop fires on the way down and closes the position with a loss; the price then
    # comes back, and the position without a stop ends with 0 lost."
    for mode in (CROSS, ISOLATED):
        levels = hand_drawn["shallow_dip"][mode, "last"]
        assert abs(levels.result(None).loss_total_usdt[0]) <= TOL
        fired = [stop for stop in STOP_GRID if _exit(levels, stop)[0] >= 0]
        assert fired
        assert all(_exit(levels, stop)[2] > 0 for stop in fired)


def test_lesson_13_the_wick_fires_last_price_stops_only_and_liquidates_nothing(hand_drawn):
    # 13: "The stop watching the last price fires on the wick ...; the one watching the mark
    # ... does not fire; the position is not liquidated either way".
    from marginlab.engine import teaching_path

    path = PATHS["last_price_wick"]
    marks = teaching_path(path.name, depth_rate=path.depth_rate, price="mark")
    lasts = teaching_path(path.name, depth_rate=path.depth_rate, price="last")
    for mode in (CROSS, ISOLATED):
        for stop in STOP_GRID:
            last = _exit(hand_drawn["last_price_wick"][mode, "last"], stop)
            mark = _exit(hand_drawn["last_price_wick"][mode, "mark"], stop)
            assert last[1] < 0 and mark[1] < 0
            assert (last[0] >= 0) == (stop >= lasts.min())
            assert (mark[0] >= 0) == (stop >= marks.min())


@pytest.mark.parametrize("mode", ("isolated", "cross"))
def test_lesson_13_on_a_fair_bet_no_stop_lowers_the_expected_loss(mode):
    # 13: "On a fair bet no stop lowers the expected loss": at every stop of the widget's
    # grid, the mean of (loss with the stop − loss without) over the same driftless paths is
    # not below zero by more than two standard errors.
    prices = {"BTCUSDT": MODELS["driftless"].paths(GUIDE.entry_price)}
    levels = simulate_stop_levels(guide_account(mode), prices, STOP_GRID)
    without = levels.result(None).final_equity_usdt
    for stop in STOP_GRID:
        diff = without - levels.result(float(stop)).final_equity_usdt
        error = diff.std(ddof=1) / np.sqrt(diff.size)
        assert diff.mean() >= -2 * error - TOL, (stop, diff.mean(), error)
