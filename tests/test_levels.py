"""Account.levels, the one place for a position's levels, and the order-form helpers
(docs/formulas.md §2-§3, §11, §12.2)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marginlab.engine import (
    Account,
    MarginError,
    MarginMode,
    MaxOpen,
    PositionLevels,
    Side,
    load_tiers,
)
from marginlab.scenarios import guide_account, two_positions_account
from marginlab.scenarios.guide import NEIGHBOUR_LOSING_MARKS, losing_neighbour_account

CENT = 0.005  # USDT: every expected price below is hand-worked to the cent
BTC, ETH = "BTCUSDT", "ETHUSDT"


# ------------------------------------------------------------ the guide's example
@pytest.mark.parametrize(
    ("mode", "liquidation", "bankruptcy", "backing", "ratio"),
    [
        # isolated: (60,000 − 2,000·3)/0.996 = 54,216.87; 60,000 − 2,000·3 = 54,000;
        # ratio at entry: MM 80 / 2,000 = 4 %
        pytest.param("isolated", 54_216.87, 54_000.0, 2_000.0, 0.04, id="isolated"),
        # cross: (60,000 − 10,000·3)/0.996 = 30,120.48; 60,000 − 10,000·3 = 30,000;
        # ratio at entry: 80 / 10,000 = 0.8 %
        pytest.param("cross", 30_120.48, 30_000.0, 10_000.0, 0.008, id="cross"),
    ],
)
def test_levels_guide_example_to_the_cent(mode, liquidation, bankruptcy, backing, ratio):
    levels = guide_account(mode).levels("BTCUSDT")

    assert isinstance(levels, PositionLevels)
    assert abs(levels.liquidation_price - liquidation) < CENT
    assert abs(levels.bankruptcy_price - bankruptcy) < CENT
    assert abs(levels.backing_usdt - backing) < CENT
    assert levels.margin_ratio == pytest.approx(ratio, abs=1e-12)
    assert levels.margin_mode is MarginMode(mode)
    assert (levels.entry_price, levels.mark_price, levels.side) == (60_000.0, 60_000.0, Side.LONG)
    assert levels.quantity == pytest.approx(1 / 3, abs=1e-15)


def test_levels_is_a_frozen_value():
    levels = guide_account("isolated").levels("BTCUSDT")
    with pytest.raises(dataclasses.FrozenInstanceError):
        levels.liquidation_price = 1.0  # type: ignore[misc]


def test_levels_at_a_mark_gives_the_scopes_margin_ratio():
    # Isolated at 57,000: MM 1/3 × 57,000 × 0.4 % = 76; balance 2,000 − 1,000 = 1,000: 7.6 %.
    levels = guide_account("isolated").levels("BTCUSDT", {"BTCUSDT": 57_000})
    assert levels.mark_price == 57_000.0
    assert levels.margin_ratio == pytest.approx(0.076, abs=1e-12)
    # the liquidation and bankruptcy prices do not depend on the mark
    assert abs(levels.liquidation_price - 54_216.87) < CENT


def test_levels_cross_with_a_losing_neighbour():
    # ETH long 10 at 3,000 marked at 2,100: down 9,000; its MM 21,000 × 0.4 % = 84.
    # backing 10,000 − 84 − 9,000 = 916; LP (60,000 − 916·3)/0.996 = 57,481.93;
    # BP where the pool's balance is 0: 60,000 − (10,000 − 9,000)·3 = 57,000.
    levels = losing_neighbour_account("cross").levels("BTCUSDT", NEIGHBOUR_LOSING_MARKS)
    assert abs(levels.backing_usdt - 916.0) < CENT
    assert abs(levels.liquidation_price - 57_481.93) < CENT
    assert abs(levels.bankruptcy_price - 57_000.0) < CENT
    # the same position isolated ignores the neighbour
    isolated = losing_neighbour_account("isolated").levels("BTCUSDT", NEIGHBOUR_LOSING_MARKS)
    assert abs(isolated.liquidation_price - 54_216.87) < CENT
    assert isolated.backing_usdt == 2_000.0


def test_levels_liquidation_price_equals_the_accounts():
    account = two_positions_account("cross")
    marks = {ETH: 3_600.0}
    assert account.levels(BTC, marks).liquidation_price == account.liquidation_price(BTC, marks)
    assert account.levels(ETH, marks).liquidation_price == account.liquidation_price(ETH, marks)


def test_levels_nan_where_no_price_liquidates():
    # a cross long at 1x (Q = 1/12 BTC) with the whole 10,000 behind it: no positive price
    # liquidates it (the LP formula gives a negative price)
    account = Account(wallet_balance=10_000).open(
        "BTCUSDT", side="long", price=60_000, leverage=1, margin=5_000
    )
    levels = account.levels("BTCUSDT")
    assert math.isnan(levels.liquidation_price)
    assert math.isnan(levels.bankruptcy_price)  # 60,000 − 10,000 × 12 < 0
    assert levels.backing_usdt == 10_000.0


def test_levels_hedge_cross_legs_share_one_liquidation_and_bankruptcy_price():
    account = (
        Account(wallet_balance=10_000)
        .set_hedge_mode(True)
        .open("BTCUSDT", side="long", price=60_000, leverage=10, quantity=0.5)
        .open("BTCUSDT", side="short", price=60_000, leverage=10, quantity=0.2)
    )
    long_leg = account.levels("BTCUSDT", side="long")
    short_leg = account.levels("BTCUSDT", side="short")
    assert long_leg.liquidation_price == short_leg.liquidation_price
    # net long 0.3 BTC: the pool's balance 10,000 + 0.5·(P − 60,000) − 0.2·(P − 60,000) is
    # 0 at P = 60,000 − 10,000/0.3 = 26,666.67
    assert abs(long_leg.bankruptcy_price - 26_666.67) < CENT
    assert short_leg.bankruptcy_price == long_leg.bankruptcy_price
    with pytest.raises(MarginError, match="side: BTCUSDT has a long and a short leg"):
        account.levels("BTCUSDT")


def test_levels_hedge_isolated_legs_each_have_their_own():
    account = (
        Account(wallet_balance=10_000)
        .set_hedge_mode(True)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
        .open("BTCUSDT", side="short", price=60_000, leverage=10, margin=2_000)
    )
    assert abs(account.levels("BTCUSDT", side="long").liquidation_price - 54_216.87) < CENT
    assert abs(account.levels("BTCUSDT", side="short").liquidation_price - 65_737.05) < CENT
    assert account.levels("BTCUSDT", side="short").bankruptcy_price == 66_000.0


def test_levels_refuses_a_mark_for_a_symbol_without_a_position():
    with pytest.raises(MarginError, match=r"marks\['ETHUSDT'\]: there is no open position"):
        guide_account("isolated").levels("BTCUSDT", {"ETHUSDT": 3_000})


@given(
    mode=st.sampled_from(["isolated", "cross"]),
    side=st.sampled_from(["long", "short"]),
    leverage=st.integers(min_value=2, max_value=125),
    margin=st.floats(min_value=100.0, max_value=2_000.0),
)
def test_levels_margin_ratio_is_one_at_its_liquidation_price(mode, side, leverage, margin):
    account = Account(wallet_balance=10_000).set_margin_mode(BTC, mode)
    account = account.open(BTC, side=side, price=60_000, leverage=leverage, margin=margin)
    price = account.levels(BTC).liquidation_price
    if math.isnan(price):
        return
    at = account.levels(BTC, {BTC: price})
    assert at.margin_ratio == pytest.approx(1.0, rel=1e-9)
    # the bankruptcy price lies beyond the liquidation price, seen from entry
    assert (at.bankruptcy_price - price) * account.position(BTC).sign < 0


# -------------------------------------------------------------- price for an ROE
@pytest.mark.parametrize(
    ("side", "roe", "expected"),
    [
        # 60,000 + s·ROE·2,000/(1/3): ±6,000 per 100 % of ROE at 10x
        pytest.param("long", 0.5, 63_000.0, id="long-gain"),
        pytest.param("long", -0.5, 57_000.0, id="long-loss"),
        pytest.param("short", 0.5, 57_000.0, id="short-gain"),
        pytest.param("short", -1.0, 66_000.0, id="short-loss"),
    ],
)
def test_price_for_roe_reads_the_roe_formula_backwards(side, roe, expected):
    account = Account(wallet_balance=10_000).open(
        "BTCUSDT", side=side, price=60_000, leverage=10, margin=2_000
    )
    price = account.price_for_roe("BTCUSDT", roe)
    assert price == pytest.approx(expected, abs=1e-9)
    assert account.position_state("BTCUSDT", {"BTCUSDT": price}).roe == pytest.approx(roe)


def test_price_for_roe_beyond_a_zero_price_is_refused():
    account = guide_account("isolated")  # a 10x long reaches −1,000 % ROE at a price of 0
    with pytest.raises(MarginError, match=r"roe: a long at 10x cannot reach -1,000.00% ROE"):
        account.price_for_roe("BTCUSDT", -10)


# ---------------------------------------------------------------- maximum open size
def test_max_open_limited_by_the_balance():
    result = Account(wallet_balance=10_000).max_open("BTCUSDT", leverage=10, price=60_000)
    assert isinstance(result, MaxOpen)
    assert result.max_notional_usdt == 100_000.0  # 10,000 × 10x
    assert result.limited_by == "balance"
    assert result.max_quantity == pytest.approx(100_000 / 60_000, abs=1e-12)


def test_max_open_limited_by_the_bracket():
    # at 125x only bracket 1 (cap 300,000) allows the leverage
    result = Account(wallet_balance=10_000).max_open("BTCUSDT", leverage=125, price=60_000)
    assert (result.max_notional_usdt, result.bracket_cap_usdt) == (300_000.0, 300_000.0)
    assert (result.max_quantity, result.limited_by) == (5.0, "bracket")


def test_max_open_counts_the_opening_fee_and_the_order_fits_exactly():
    # N·(1/10 + 0.0005) = 10,000 → N = 10,000 / 0.1005 = 99,502.49
    account = Account(wallet_balance=10_000, fee_rate=0.0005)
    result = account.max_open("BTCUSDT", leverage=10, price=60_000)
    assert result.max_notional_usdt == pytest.approx(99_502.49, abs=CENT)
    opened = account.open(
        "BTCUSDT", side="long", price=60_000, leverage=10, quantity=result.max_quantity
    )
    assert abs(opened.available_balance()) < 1e-6


def test_max_open_an_addition_counts_the_open_position_against_the_cap():
    # 2 BTC open at 100x (120,000 notional). Bracket 2 is the last to allow 100x: the
    # position must stay below 800,000, so 680,000 more; the balance (1,000,000 − 1,200 of
    # initial margin, × 100) would allow far more, so the bracket binds.
    account = Account(wallet_balance=1_000_000).open(
        "BTCUSDT", side="long", price=60_000, leverage=100, quantity=2
    )
    result = account.max_open("BTCUSDT", leverage=100, price=60_000)
    assert result.bracket_cap_usdt == 800_000.0
    assert result.max_notional_usdt == 680_000.0
    assert result.limited_by == "bracket"
    with pytest.raises(MarginError, match="leverage: the BTCUSDT long position is open at 100x"):
        account.max_open("BTCUSDT", leverage=50, price=60_000)
    with pytest.raises(MarginError, match="side: BTCUSDT holds a long position"):
        account.max_open("BTCUSDT", leverage=100, price=60_000, side="short")


# ------------------------------------------------------------ cross ratio over a grid
def test_cross_margin_ratio_over_a_grid_equals_the_state_at_each_point():
    account = two_positions_account("cross")
    btc = np.array([40_000.0, 60_000.0, 80_000.0])
    eth = np.array([2_000.0, 3_000.0, 4_500.0])
    grid = account.cross_margin_ratio({BTC: btc[None, :], ETH: eth[:, None]})
    assert grid.shape == (3, 3)
    for j, e in enumerate(eth):
        for i, b in enumerate(btc):
            assert grid[j, i] == account.state({BTC: b, ETH: e}).cross_margin_ratio
    assert guide_account("isolated").cross_margin_ratio() == 0.0  # no cross position


def test_cross_margin_ratio_refuses_a_notional_past_the_last_bracket():
    cap = load_tiers(BTC).max_notional
    with pytest.raises(MarginError, match="above the last bracket cap"):
        guide_account("cross").cross_margin_ratio({BTC: np.array([cap * 4])})
