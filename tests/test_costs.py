"""Fees and funding (docs/formulas.md §6-§7): round trips, their share of the margin, and
funding held over days, checked against the Account's own operations.

Hand numbers: 20,000 USDT at the taker rate 0.05 % costs 10 to open and 10 to close; at
100x the margin is 200, so the round trip is 10 % of it (2 × 0.0005 × 100). Funding at
0.01 % on 20,000 USDT is 2 USDT per interval.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from marginlab.engine import (
    FEE_RATES,
    Account,
    MarginError,
    fee_share_of_margin,
    hold_with_funding,
    round_trip_fees,
)
from marginlab.scenarios import Trade, guide_account


def opened(mode: str, *, side="long", leverage=10.0, notional=20_000.0, fee_rate=0.0):
    return Trade(notional=notional, leverage=leverage, side=side, fee_rate=fee_rate).account(mode)


def test_fee_rates_are_the_published_regular_rates():
    assert FEE_RATES == {"maker": 0.0002, "taker": 0.0005}


@pytest.mark.parametrize("kind", ["maker", "taker"])
@pytest.mark.parametrize("exit_price", [60_000.0, 57_000.0])
def test_round_trip_fees_equal_what_open_and_close_take_from_the_wallet(kind, exit_price):
    rate = FEE_RATES[kind]
    empty = Account(wallet_balance=10_000, fee_rate=rate).set_margin_mode("BTCUSDT", "isolated")
    account = empty.open("BTCUSDT", side="long", price=60_000, leverage=10, notional=20_000)
    closed = account.close("BTCUSDT", price=exit_price)
    fees = round_trip_fees(account, "BTCUSDT", exit_price=exit_price)
    pnl = (exit_price - 60_000) / 3  # 1/3 BTC
    assert fees.open_usdt == pytest.approx(10_000 - account.wallet_balance, abs=1e-9)
    assert fees.total_usdt == pytest.approx(10_000 + pnl - closed.wallet_balance, abs=1e-9)
    assert fees.margin_usdt == 2_000.0


def test_round_trip_taker_fees_at_100x_are_ten_percent_of_the_margin():
    fees = round_trip_fees(opened("isolated", leverage=100, fee_rate=0.0005), "BTCUSDT")
    assert (fees.open_usdt, fees.close_usdt, fees.margin_usdt) == (10.0, 10.0, 200.0)
    assert fees.share_of_margin == pytest.approx(0.10, abs=1e-12)


def test_fee_share_of_margin_curve_equals_round_trip_fees_at_each_leverage():
    leverages = np.array([3.0, 10.0, 25.0, 100.0, 125.0])
    curve = fee_share_of_margin(leverages, FEE_RATES["maker"])
    for lev, share in zip(leverages, curve, strict=True):
        fees = round_trip_fees(opened("cross", leverage=lev, fee_rate=0.0002), "BTCUSDT")
        assert share == pytest.approx(fees.share_of_margin, rel=1e-12)
    assert curve[3] == pytest.approx(0.04, abs=1e-12)  # maker at 100x: 2 × 0.02 % × 100


def test_fee_share_of_margin_refuses_a_leverage_below_one():
    with pytest.raises(MarginError, match="leverage must hold finite values of at least 1"):
        fee_share_of_margin([0.5, 10], 0.0005)


def repeated(account: Account, intervals: int, rate: float, mark: float) -> list:
    """(backing, liquidation price, wallet) after each settlement, by the Account itself."""
    marks = {"BTCUSDT": mark}
    rows, gone = [], -1
    outcome = account.liquidate(marks)
    current = outcome.account
    if outcome.happened:
        gone = 0
    for k in range(intervals + 1):
        if k > 0 and gone < 0:
            before = len(current.positions)
            current = current.apply_funding(marks, rate=rate)
            if len(current.positions) < before:
                gone = k
            else:
                outcome = current.liquidate(marks)
                if outcome.happened:
                    gone, current = k, outcome.account
        if gone < 0:
            p = current.positions[0]
            backing = p.isolated_margin if p.is_isolated else current.cross_wallet_balance
            rows.append((backing, current.liquidation_price("BTCUSDT"), current.wallet_balance))
        else:
            rows.append((math.nan, math.nan, current.wallet_balance))
    return rows, gone


@pytest.mark.parametrize("mode", ["cross", "isolated"])
@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize(
    ("leverage", "rate", "mark"),
    [(10, 0.0001, 60_000.0), (100, 0.001, 60_000.0), (5, 0.03, 60_000.0), (50, 0.003, 59_500.0)],
    ids=["guide", "100x", "funding-liquidates", "off-entry"],
)
def test_hold_with_funding_equals_repeated_apply_funding_and_liquidate(
    mode, side, leverage, rate, mark
):
    account = opened(mode, side=side, leverage=leverage)
    hold = hold_with_funding(account, intervals=45, rate=rate, marks={"BTCUSDT": mark})
    rows, gone = repeated(account, 45, rate, mark)
    for k, (backing, price, wallet) in enumerate(rows):
        assert hold.wallet_usdt[k] == wallet, k
        if math.isnan(backing):
            assert math.isnan(hold.backing_usdt[k]) and math.isnan(hold.liquidation_price[k])
        else:
            assert hold.backing_usdt[k] == backing, k
            assert hold.liquidation_price[k] == price or (
                math.isnan(price) and math.isnan(hold.liquidation_price[k])
            )
    assert hold.liquidated_at == gone


def test_hold_with_funding_guide_creeps_toward_entry_by_hand():
    # 2 USDT per interval: after 90 (30 days), 1,820 of margin; LP (60,000 − 1,820·3)/0.996.
    hold = hold_with_funding(guide_account("isolated"), intervals=90, rate=0.0001)
    assert hold.payment_usdt == 2.0
    assert hold.backing_usdt[90] == pytest.approx(1_820.0, abs=1e-9)
    assert hold.liquidation_price[90] == pytest.approx((60_000 - 5_460) / 0.996, abs=1e-6)
    assert np.all(np.diff(hold.liquidation_price) > 0)  # every payment moves it up
    cross = hold_with_funding(guide_account("cross"), intervals=90, rate=0.0001)
    moved = {"isolated": hold.liquidation_price, "cross": cross.liquidation_price}
    assert moved["isolated"][90] - moved["isolated"][0] == pytest.approx(
        moved["cross"][90] - moved["cross"][0], rel=1e-9
    )  # the same 180 USDT paid moves both by 180/(Q·0.996): closer to entry in isolated
    # docs/formulas.md §7: 9 % of the isolated margin, 1.8 % of the cross wallet.
    assert round(cross.liquidation_price[90], 2) == 30_662.65
    assert round(hold.liquidation_price[90], 2) == 54_759.04
    assert (round(hold.paid_share[90], 6), round(cross.paid_share[90], 6)) == (0.09, 0.018)


def test_hold_with_funding_payment_above_the_margin_liquidates_by_funding():
    # 5x isolated long, 3 % a settlement = 600 USDT of a 4,000 margin: by funding at k=7.
    hold = hold_with_funding(opened("isolated", leverage=5), intervals=20, rate=0.03)
    assert (hold.liquidated_at, hold.liquidated_by) == (7, "funding")
    assert hold.wallet_usdt[-1] == pytest.approx(6_000.0, abs=1e-9)  # lost the 4,000 only
    assert hold.paid_usdt[-1] == pytest.approx(4_000.0, abs=1e-9)


def test_hold_with_funding_short_receives_and_its_margin_grows():
    hold = hold_with_funding(opened("isolated", side="short"), intervals=3, rate=0.0001)
    assert hold.payment_usdt == -2.0
    assert hold.backing_usdt.tolist() == [2_000.0, 2_002.0, 2_004.0, 2_006.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"intervals": -1}, "intervals must be between 0 and 100,000"),
        ({"intervals": 3, "rate": 0.05}, "rate must be between"),
    ],
    ids=["intervals", "rate"],
)
def test_hold_with_funding_refuses_bad_settings(kwargs, message):
    with pytest.raises(MarginError, match=message):
        hold_with_funding(guide_account("isolated"), **kwargs)


def test_hold_with_funding_refuses_two_positions():
    two = guide_account("cross").open("ETHUSDT", side="long", price=3_000, leverage=10, margin=500)
    with pytest.raises(MarginError, match="exactly one position"):
        hold_with_funding(two, intervals=3, rate=0.0001)
