"""The same trade in both modes: orders sized by notional, the leverage curve, the loss curve.

Hand numbers (bracket 1: MMR 0.004, cum 0) for a long of notional N from EP = 60,000 with
Q = N / EP: isolated LP = EP·(1 − 1/L)/(1 − MMR) depends only on the leverage; cross LP =
(EP − W/Q)/(1 − MMR) depends on the wallet W and the size, never on the leverage.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from marginlab.engine import (
    MODES,
    Account,
    BracketError,
    InsufficientMarginError,
    MarginError,
    MarginMode,
)
from marginlab.scenarios import Trade, guide_account

TOL_USDT = 0.005
LEVERAGES = np.arange(1.0, 126.0)


def opened(mode: str, *, side="long", leverage=10.0, notional=20_000.0, wallet=10_000.0):
    return (
        Account(wallet_balance=wallet)
        .set_margin_mode("BTCUSDT", mode)
        .open("BTCUSDT", side=side, price=60_000, leverage=leverage, notional=notional)
    )


# ----------------------------------------------------------------------- open(notional=)
def test_open_by_notional_margin_follows_as_notional_over_leverage():
    account = opened("isolated", leverage=20)
    position = account.position("BTCUSDT")
    assert position.isolated_margin == 1_000.0  # 20,000 / 20
    assert position.entry_notional == pytest.approx(20_000.0, abs=1e-9)


def test_open_by_notional_equals_open_by_margin_of_the_guide():
    assert opened("isolated") == guide_account("isolated")
    assert opened("cross") == guide_account("cross")


def test_open_two_sizes_given_is_refused_naming_all_three():
    with pytest.raises(MarginError, match="margin, quantity, notional: give exactly one"):
        Account(wallet_balance=10_000).open(
            "BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000, notional=20_000
        )


def test_open_bracket_refusals_are_bracket_errors():
    # 500,000 USDT is bracket 2: at most 100x.
    with pytest.raises(BracketError, match="leverage must be at most 100x"):
        opened("isolated", leverage=125, notional=500_000, wallet=50_000)
    with pytest.raises(InsufficientMarginError, match="exceeds the available balance"):
        opened("isolated", leverage=1)


# -------------------------------------------------------------------- same-trade facts
@pytest.mark.parametrize("side", ["long", "short"])
def test_same_notional_cross_liquidation_price_does_not_depend_on_leverage(side):
    # Long: (60,000 − 10,000·3)/0.996 = 30,120.48; short: (60,000 + 30,000)/1.004 = 89,641.43.
    expected = 30_120.48 if side == "long" else 89_641.43
    for leverage in (2, 5, 10, 20, 50, 100, 125):
        price = opened("cross", side=side, leverage=leverage).liquidation_price("BTCUSDT")
        assert abs(price - expected) < TOL_USDT, leverage


@pytest.mark.parametrize("side", ["long", "short"])
def test_same_notional_isolated_liquidation_price_moves_toward_entry_with_leverage(side):
    prices = [
        opened("isolated", side=side, leverage=lev).liquidation_price("BTCUSDT")
        for lev in (2, 5, 10, 20, 50, 100, 125)
    ]
    distance = [abs(p - 60_000) for p in prices]
    assert distance == sorted(distance, reverse=True)
    # 20x long: 60,000 × 0.95 / 0.996 = 57,228.92, the same as 2,000 at 20x.
    if side == "long":
        assert abs(prices[3] - 57_228.92) < TOL_USDT


def test_trade_defaults_are_the_guides_trade():
    trade = Trade()
    assert (trade.notional, trade.leverage, trade.wallet_balance) == (20_000.0, 10.0, 10_000.0)
    assert trade.account("isolated") == guide_account("isolated")


# --------------------------------------------------------------------- leverage_curve
@pytest.mark.parametrize("mode", ["cross", "isolated"])
@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize(
    ("wallet", "notional"),
    [(10_000, 20_000), (30_000, 20_000), (10_000, 500_000), (50_000, 2_000)],
    ids=["guide", "rich", "large", "small"],
)
def test_leverage_curve_equals_open_at_every_leverage(mode, side, wallet, notional):
    empty = Account(wallet_balance=wallet).set_margin_mode("BTCUSDT", mode)
    curve = empty.leverage_curve(
        "BTCUSDT", side=side, price=60_000, notional=notional, leverages=LEVERAGES
    )
    for i, leverage in enumerate(LEVERAGES):
        try:
            account = empty.open(
                "BTCUSDT", side=side, price=60_000, leverage=leverage, notional=notional
            )
        except InsufficientMarginError:
            assert curve.refused_by_balance[i] and math.isnan(curve.liquidation_price[i])
            continue
        except BracketError:
            assert curve.refused_by_bracket[i] and math.isnan(curve.liquidation_price[i])
            continue
        assert not curve.refused[i]
        expected = account.liquidation_price("BTCUSDT")
        got = curve.liquidation_price[i]
        assert (math.isnan(expected) and math.isnan(got)) or got == expected, leverage


def test_leverage_curve_guide_refuses_1x_and_nothing_else():
    curve = Trade().leverage_curve("isolated", LEVERAGES)
    assert np.flatnonzero(curve.refused).tolist() == [0]  # 20,000 of margin > 10,000
    # 10x: (60,000 − 6,000)/0.996 → 9.64 % from entry.
    assert abs(curve.distance_rate[9] - 0.0963855) < 1e-7


def test_leverage_curve_numbers_of_the_formulas_doc():
    # docs/formulas.md §11: 20,000 USDT long from 60,000, 10,000 wallet.
    levs = [2, 10, 20, 125]
    isolated = Trade().leverage_curve("isolated", levs).liquidation_price.round(2).tolist()
    cross = Trade().leverage_curve("cross", levs).liquidation_price.round(2).tolist()
    assert isolated == [30_120.48, 54_216.87, 57_228.92, 59_759.04]
    assert cross == [30_120.48] * 4


def test_leverage_curve_on_a_symbol_with_a_position_is_refused():
    with pytest.raises(MarginError, match="already holds a position"):
        guide_account("cross").leverage_curve(
            "BTCUSDT", side="long", price=60_000, notional=1_000, leverages=[10]
        )


# ------------------------------------------------------------------------ wallet_loss
PRICES = np.arange(20_000.0, 100_001.0, 250.0)


@pytest.mark.parametrize("mode", ["cross", "isolated"])
@pytest.mark.parametrize("side", ["long", "short"])
def test_wallet_loss_curve_equals_liquidate_and_state_at_each_price(mode, side):
    account = opened(mode, side=side)
    curve = account.wallet_loss({"BTCUSDT": PRICES})
    for price, loss in zip(PRICES, curve, strict=True):
        marks = {"BTCUSDT": float(price)}
        outcome = account.liquidate(marks)
        expected = outcome.loss_usdt if outcome.happened else -account.state(marks).unrealized_pnl
        assert loss == expected, price


@pytest.mark.parametrize("side", ["long", "short"])
def test_wallet_loss_modes_identical_until_isolated_liquidation_then_part(side):
    iso, cross = (opened(m, side=side) for m in ("isolated", "cross"))
    lp = iso.liquidation_price("BTCUSDT")
    loss = {m: a.wallet_loss({"BTCUSDT": PRICES}) for m, a in (("iso", iso), ("cross", cross))}
    safe = PRICES > lp if side == "long" else PRICES < lp
    np.testing.assert_array_equal(loss["iso"][safe], loss["cross"][safe])
    assert (loss["iso"][~safe] == 2_000.0).all()  # the margin, and no more
    assert loss["cross"][~safe].max() == 10_000.0  # the whole wallet, at the cross LP


def test_wallet_loss_scalar_mark_gives_a_float():
    assert guide_account("isolated").wallet_loss({"BTCUSDT": 50_000}) == 2_000.0
    assert guide_account("cross").wallet_loss() == 0.0


def test_wallet_loss_mark_for_a_symbol_without_position_is_refused():
    with pytest.raises(MarginError, match=r"marks\['ETHUSDT'\]: there is no open position"):
        guide_account("cross").wallet_loss({"ETHUSDT": [3_000.0]})


def test_modes_constant_is_both_modes_cross_first():
    assert MODES == (MarginMode.CROSS, MarginMode.ISOLATED)
    assert {MarginMode.CROSS: 1}["cross"] == 1  # a StrEnum key answers to its string
