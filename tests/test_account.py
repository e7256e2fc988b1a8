"""The Account: worked examples through its API (docs/formulas.md §2.5, §5, §12.2) and its rules."""

import math

import pytest

from marginlab.engine import (
    Account,
    InsufficientMarginError,
    MarginError,
    MarginMode,
    ModeSwitchError,
    Side,
    bankruptcy_price,
)

USDT_TOL = 0.005  # to the cent
PCT_TOL = 0.005  # percentage points, for distances published to 0.01 %
BTC, ETH = "BTCUSDT", "ETHUSDT"
ETH_2100 = {ETH: 2_100.0}  # ETH long 10 @ 3,000 marked at 2,100: uPnL −9,000, MM 84


def guide(mode, side="long", *, added=0.0, neighbour=None):
    """10,000 USDT; BTC at 60,000, 10x, 2,000 of margin (1/3 BTC), in ``mode`` on ``side``.

    neighbour: None; "isolated-eth" (ETH long, isolated, 2,000 at 10x from 3,000, opened
    first so 2,000 of the wallet is tied up); or "cross-eth" (ETH long 10 @ 3,000, 10x, cross).
    """
    account = Account(wallet_balance=10_000)
    if neighbour == "isolated-eth":
        account = account.set_margin_mode(ETH, "isolated")
        account = account.open(ETH, side="long", price=3_000, leverage=10, margin=2_000)
    elif neighbour == "cross-eth":
        account = account.open(ETH, side="long", price=3_000, leverage=10, quantity=10)
    account = account.set_margin_mode(BTC, mode)
    account = account.open(BTC, side=side, price=60_000, leverage=10, margin=2_000)
    if added:
        account = account.add_margin(BTC, added)
    return account


# ------------------------------------------- formulas.md §12.2 the guide's table, every row
# long LP = (EP − M/Q)/(1 − 0.4 %), short LP = (EP + M/Q)/(1 + 0.4 %), Q = 1/3, with M the
# USDT standing behind the position; MM at LP = LP × Q × 0.4 %.
GUIDE_ROWS = [
    # id, mode, side, added margin, neighbour, LP, MM at LP
    ("isolated-long-10x", "isolated", "long", 0, None, 54_216.87, 72.29),  # M 2,000
    ("isolated-short-10x", "isolated", "short", 0, None, 65_737.05, 87.65),
    ("isolated-long-10x-add-1000", "isolated", "long", 1_000, None, 51_204.82, 68.27),
    ("isolated-short-10x-add-1000", "isolated", "short", 1_000, None, 68_725.10, 91.63),
    ("cross-long-10x", "cross", "long", 0, None, 30_120.48, 40.16),  # M 10,000
    ("cross-short-10x", "cross", "short", 0, None, 89_641.43, 119.52),
    # M 8,000: 2,000 of the 10,000 tied up in an isolated ETH position
    ("cross-long-10x-isolated-eth", "cross", "long", 0, "isolated-eth", 36_144.58, 48.19),
    ("cross-short-10x-isolated-eth", "cross", "short", 0, "isolated-eth", 83_665.34, 111.55),
    # M = 10,000 − 84 − 9,000 = 916: the cross ETH neighbour marked at 2,100
    ("cross-long-10x-losing-eth", "cross", "long", 0, "cross-eth", 57_481.93, 76.64),
    ("cross-short-10x-losing-eth", "cross", "short", 0, "cross-eth", 62_498.01, 83.33),
    # neighbours never move an isolated position: M stays 2,000
    ("isolated-long-10x-losing-eth", "isolated", "long", 0, "cross-eth", 54_216.87, 72.29),
    ("isolated-short-10x-losing-eth", "isolated", "short", 0, "cross-eth", 65_737.05, 87.65),
    ("isolated-long-10x-isolated-eth", "isolated", "long", 0, "isolated-eth", 54_216.87, 72.29),
]


@pytest.mark.parametrize(
    ("mode", "side", "added", "neighbour", "expected_price", "expected_mm"),
    [pytest.param(*row[1:], id=row[0]) for row in GUIDE_ROWS],
)
def test_account_liquidation_price_guide_table_to_the_cent(
    mode, side, added, neighbour, expected_price, expected_mm
):
    account = guide(mode, side, added=added, neighbour=neighbour)
    marks = ETH_2100 if neighbour == "cross-eth" else {}
    price = account.liquidation_price(BTC, marks)
    assert abs(price - expected_price) < USDT_TOL
    at_lp = account.position_state(BTC, {**marks, BTC: price})
    assert abs(at_lp.maintenance_margin - expected_mm) < USDT_TOL


def test_account_add_margin_moves_isolated_long_lp_by_delta_over_q_one_minus_mmr():
    # §6: +1,000 USDT: LP falls by 1,000 / (1/3 × 0.996) = 3,012.05: 54,216.87 → 51,204.82
    before = guide("isolated")
    after = before.add_margin(BTC, 1_000)
    assert abs(before.liquidation_price(BTC) - 54_216.87) < USDT_TOL
    assert abs(after.liquidation_price(BTC) - 51_204.82) < USDT_TOL
    moved = before.liquidation_price(BTC) - after.liquidation_price(BTC)
    assert abs(moved - 3_012.05) < USDT_TOL
    assert after.cross_wallet_balance == 7_000.0  # 10,000 − 3,000 assigned


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        pytest.param("long", 54_000.0, id="isolated-long-10x"),  # 60,000 − 2,000 / (1/3)
        pytest.param("short", 66_000.0, id="isolated-short-10x"),  # 60,000 + 2,000 / (1/3)
    ],
)
def test_account_isolated_position_bankruptcy_price(side, expected):
    position = guide("isolated", side).position(BTC)
    price = bankruptcy_price(
        side=position.side,
        quantity=position.quantity,
        entry_price=position.entry_price,
        wallet_balance=position.isolated_margin,
    )
    assert abs(price - expected) < USDT_TOL


# ------------------------------------------------- §2.5 self-consistent bracket via Account
@pytest.mark.parametrize(
    ("side", "quantity", "leverage", "expected"),
    [
        # N = 400,000 (bracket 2), margin 200,000: bracket 2 gives 50,175.88, whose notional
        # 200,704 is in bracket 1; redone with bracket 1: (100,000 − 50,000)/0.996 = 50,200.80
        pytest.param("long", 4, 2, 50_200.80, id="isolated-long-2x-4btc"),
        # N = 250,000 (bracket 1), margin 83,333.33: bracket 1 gives 132,802.12 (notional
        # 332,005, bracket 2); redone: (100,000 + 33,333.33 + 300/2.5)/1.005 = 132,789.39
        pytest.param("short", 2.5, 3, 132_789.39, id="isolated-short-3x-2.5btc"),
    ],
)
def test_account_liquidation_price_uses_bracket_at_liquidation(side, quantity, leverage, expected):
    account = Account(wallet_balance=250_000).set_margin_mode(BTC, "isolated")
    account = account.open(BTC, side=side, price=100_000, leverage=leverage, quantity=quantity)
    assert abs(account.liquidation_price(BTC) - expected) < USDT_TOL


# ----------------------------- formulas.md §12.2 distance to liquidation by leverage (longs)
@pytest.mark.parametrize(
    ("leverage", "expected_pct"),
    [
        # distance = 1 − (1 − 1/L)/(1 − 0.4 %)
        pytest.param(10, 9.64, id="isolated-long-10x"),  # 1 − 0.9/0.996 = 9.638 %
        pytest.param(20, 4.62, id="isolated-long-20x"),  # 1 − 0.95/0.996 = 4.618 %
        pytest.param(50, 1.61, id="isolated-long-50x"),  # 1 − 0.98/0.996 = 1.606 %
        pytest.param(100, 0.60, id="isolated-long-100x"),  # 1 − 0.99/0.996 = 0.602 %
        pytest.param(125, 0.40, id="isolated-long-125x"),  # 1 − 0.992/0.996 = 0.402 %
        pytest.param(150, 0.27, id="isolated-long-150x"),  # 1 − 0.99333/0.996 = 0.268 %
    ],
)
def test_account_isolated_long_distance_by_leverage(leverage, expected_pct):
    # 1,000 USDT of margin keeps even 150x (150,000 notional) in bracket 1
    account = Account(wallet_balance=10_000).set_margin_mode(BTC, "isolated")
    account = account.open(BTC, side="long", price=60_000, leverage=leverage, margin=1_000)
    distance_pct = (60_000 - account.liquidation_price(BTC)) / 60_000 * 100
    assert abs(distance_pct - expected_pct) < PCT_TOL


# ---------------------------------------------------------------- immutability and modes
def test_account_open_returns_new_account_original_unchanged():
    before = Account(wallet_balance=10_000)
    after = before.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
    assert before.positions == () and before.wallet_balance == 10_000
    assert len(after.positions) == 1 and after is not before


def test_account_refused_open_raises_and_equals_original():
    before = guide("isolated")
    snapshot = Account(
        wallet_balance=before.wallet_balance,
        positions=before.positions,
        margin_modes=before.margin_modes,
    )
    with pytest.raises(InsufficientMarginError):
        before.open(ETH, side="long", price=3_000, leverage=10, margin=9_000)  # 8,000 free
    assert before == snapshot


def test_account_is_frozen():
    with pytest.raises(AttributeError):
        Account().wallet_balance = 5  # type: ignore[misc]


def test_account_margin_mode_default_cross():
    account = Account()
    assert account.margin_mode(BTC) is MarginMode.CROSS
    assert (
        account.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
        .position(BTC)
        .margin_mode
        is MarginMode.CROSS
    )


def test_account_mode_switch_with_position_raises_mode_switch_error():
    account = guide("cross")
    with pytest.raises(ModeSwitchError, match="BTCUSDT") as caught:
        account.set_margin_mode(BTC, "isolated")
    assert isinstance(caught.value, ValueError)
    assert account == guide("cross")


def test_account_mode_switch_other_symbol_allowed_and_unaffected():
    account = guide("cross").set_margin_mode(ETH, "isolated")
    assert account.margin_mode(ETH) is MarginMode.ISOLATED
    assert account.margin_mode(BTC) is MarginMode.CROSS
    assert abs(account.liquidation_price(BTC) - 30_120.48) < USDT_TOL


def test_account_mode_switch_after_close_allowed():
    account = guide("cross").close(BTC, price=60_000).set_margin_mode(BTC, "isolated")
    assert account.margin_mode(BTC) is MarginMode.ISOLATED


# ------------------------------------------------------------------- one-way and hedge
def test_account_one_way_same_side_averages_entry():
    # 1/3 @ 60,000 + 1/3 @ 66,000 → 2/3 @ 63,000; isolated margin 2,000 + 2,200 = 4,200
    account = guide("isolated").open(BTC, side="long", price=66_000, leverage=10, quantity=1 / 3)
    position = account.position(BTC)
    assert abs(position.quantity - 2 / 3) < 1e-12
    assert abs(position.entry_price - 63_000) < USDT_TOL
    assert abs(position.isolated_margin - 4_200) < USDT_TOL
    assert abs(account.cross_wallet_balance - 5_800) < USDT_TOL


def test_account_one_way_opposite_side_reduces():
    # short 1/6 at 60,000 halves the long; no PnL; half the isolated margin returns
    account = guide("isolated").open(BTC, side="short", price=60_000, leverage=10, quantity=1 / 6)
    position = account.position(BTC)
    assert position.side is Side.LONG
    assert abs(position.quantity - 1 / 6) < 1e-12
    assert abs(position.isolated_margin - 1_000) < USDT_TOL
    assert account.wallet_balance == 10_000
    assert abs(account.cross_wallet_balance - 9_000) < USDT_TOL


def test_account_one_way_opposite_side_larger_flips():
    # short 1/2 at 63,000: the 1/3 long closes (+1,000 USDT), a 1/6 short opens at 63,000
    # with 1/6 × 63,000 / 10 = 1,050 of isolated margin
    account = guide("isolated").open(BTC, side="short", price=63_000, leverage=10, quantity=0.5)
    position = account.position(BTC)
    assert position.side is Side.SHORT
    assert abs(position.quantity - 1 / 6) < 1e-12
    assert position.entry_price == 63_000
    assert abs(position.isolated_margin - 1_050) < USDT_TOL
    assert abs(account.wallet_balance - 11_000) < USDT_TOL


def test_account_one_way_opposite_same_notional_by_margin_leaves_no_dust():
    # Regression: 2,500 USDT at 20x from 61,234.5, closed by 3,000 USDT at 20x at 1.2 × that
    # price, is the same quantity up to one rounding; it used to leave a 1e-16 BTC short.
    account = Account(wallet_balance=100_000)
    account = account.open(BTC, side="long", price=61_234.5, leverage=20, margin=2_500)
    closed = account.open(BTC, side="short", price=61_234.5 * 1.2, leverage=20, margin=2_500 * 1.2)
    assert closed.positions == ()


def test_account_hedge_mode_keeps_long_and_short_legs():
    account = Account(wallet_balance=5_000).set_hedge_mode(True)
    account = account.open(BTC, side="long", price=60_000, leverage=10, quantity=1 / 3)
    account = account.open(BTC, side="short", price=60_000, leverage=10, quantity=1 / 6)
    assert {p.side for p in account.positions_of(BTC)} == {Side.LONG, Side.SHORT}
    with pytest.raises(ValueError, match="side"):
        account.position(BTC)


def test_account_hedge_cross_legs_share_one_liquidation_price():
    # §2.1 with both legs: (5,000 − 20,000 + 10,000) / (0.002 − 1/3 + 1/6) = 30,364.37
    account = Account(wallet_balance=5_000).set_hedge_mode(True)
    account = account.open(BTC, side="long", price=60_000, leverage=10, quantity=1 / 3)
    account = account.open(BTC, side="short", price=60_000, leverage=10, quantity=1 / 6)
    long_lp = account.liquidation_price(BTC, side="long")
    short_lp = account.liquidation_price(BTC, side="short")
    assert abs(long_lp - 30_364.37) < USDT_TOL
    assert long_lp == short_lp


def test_account_hedge_isolated_legs_each_own_liquidation_price():
    account = Account(wallet_balance=5_000).set_hedge_mode(True).set_margin_mode(BTC, "isolated")
    account = account.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
    account = account.open(BTC, side="short", price=60_000, leverage=10, margin=2_000)
    assert abs(account.liquidation_price(BTC, side="long") - 54_216.87) < USDT_TOL
    assert abs(account.liquidation_price(BTC, side="short") - 65_737.05) < USDT_TOL


def test_account_hedge_mode_switch_with_positions_raises():
    with pytest.raises(ModeSwitchError, match="hedge_mode"):
        guide("cross").set_hedge_mode(True)


# --------------------------------------------------------------------- closing and fees
def test_account_partial_close_releases_isolated_margin_pro_rata():
    # close half at 63,000: PnL 1/6 × 3,000 = 500; 1,000 of the 2,000 margin returns
    account = guide("isolated").close(BTC, price=63_000, quantity=1 / 6)
    assert abs(account.position(BTC).isolated_margin - 1_000) < USDT_TOL
    assert abs(account.wallet_balance - 10_500) < USDT_TOL
    assert abs(account.cross_wallet_balance - 9_500) < USDT_TOL


def test_account_full_close_realizes_pnl_into_wallet():
    # short 1/3 from 60,000 closed at 57,000: +1,000
    account = guide("cross", "short").close(BTC, price=57_000)
    assert account.positions == ()
    assert abs(account.wallet_balance - 11_000) < USDT_TOL


def test_account_fees_charged_on_open_and_close():
    # open: 20,000 × 0.05 % = 10; close at 63,000: +1,000 − 21,000 × 0.05 % = +989.50
    account = Account(wallet_balance=10_000, fee_rate=0.0005)
    opened = account.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
    assert abs(opened.wallet_balance - 9_990) < USDT_TOL
    closed = opened.close(BTC, price=63_000)
    assert abs(closed.wallet_balance - 10_979.50) < USDT_TOL


def test_account_fees_isolated_margin_kept_whole_fee_from_pool():
    account = Account(wallet_balance=10_000, fee_rate=0.0005).set_margin_mode(BTC, "isolated")
    account = account.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
    assert account.position(BTC).isolated_margin == 2_000
    assert abs(account.cross_wallet_balance - 7_990) < USDT_TOL  # 9,990 − 2,000


def test_account_without_fee_rate_charges_nothing():
    account = guide("cross").close(BTC, price=60_000)
    assert account.wallet_balance == 10_000


# ---------------------------------------------------------------------------- funding
def test_account_funding_positive_rate_long_pays_isolated_margin_settles():
    # 1/3 × 60,000 × 0.01 % = 2 USDT out of the isolated margin (and the wallet)
    account = guide("isolated").apply_funding({BTC: 60_000}, rate=0.0001)
    assert abs(account.position(BTC).isolated_margin - 1_998) < USDT_TOL
    assert abs(account.wallet_balance - 9_998) < USDT_TOL
    assert abs(account.cross_wallet_balance - 8_000) < USDT_TOL
    # less margin: the LP moves 2 / (1/3 × 0.996) = 6.02 toward entry
    assert abs(account.liquidation_price(BTC) - 54_222.89) < USDT_TOL


def test_account_funding_positive_rate_short_receives_into_cross_pool():
    account = guide("cross", "short").apply_funding({BTC: 60_000}, rate=0.0001)
    assert abs(account.wallet_balance - 10_002) < USDT_TOL


def test_account_funding_negative_rate_long_receives():
    account = guide("cross").apply_funding({BTC: 60_000}, rate=-0.0001)
    assert abs(account.wallet_balance - 10_002) < USDT_TOL


# ------------------------------------------------------------------------ liquidation
def test_account_liquidate_isolated_loses_exactly_its_margin():
    outcome = guide("isolated").liquidate({BTC: 54_000})  # below LP 54,216.87
    assert outcome.happened
    assert outcome.loss_usdt == 2_000
    assert outcome.kept_usdt == 8_000
    assert outcome.account.positions == ()
    assert outcome.account.wallet_balance == 8_000


def test_account_liquidate_above_lp_nothing_happens():
    account = guide("isolated")
    outcome = account.liquidate({BTC: 54_300})
    assert not outcome.happened
    assert outcome.account == account
    assert outcome.loss_usdt == 0


def test_account_liquidate_cross_loses_whole_cross_wallet():
    outcome = guide("cross").liquidate({BTC: 30_000})  # below LP 30,120.48
    assert outcome.loss_usdt == 10_000
    assert outcome.account.wallet_balance == 0
    assert outcome.account.positions == ()


def test_account_liquidate_cross_closes_all_cross_leaves_isolated_untouched():
    # cross BTC long beside an isolated ETH long (2,000 assigned): BTC at 30,000 is below its
    # LP 36,144.58, the cross pool of 8,000 is lost; the isolated ETH position stays as it was.
    account = guide("cross", neighbour="isolated-eth")
    eth_before = account.position(ETH)
    outcome = account.liquidate({BTC: 30_000, ETH: 3_000})
    assert [p.symbol for p in outcome.liquidated] == [BTC]
    assert outcome.loss_usdt == 8_000
    assert outcome.account.positions == (eth_before,)
    assert outcome.account.wallet_balance == 2_000
    assert outcome.account.cross_wallet_balance == 0


def test_account_liquidate_cross_takes_every_cross_position():
    account = guide("cross", neighbour="cross-eth")
    outcome = account.liquidate({BTC: 57_000, **ETH_2100})  # below LP 57,481.93
    assert {p.symbol for p in outcome.liquidated} == {BTC, ETH}
    assert outcome.account.positions == ()
    assert outcome.loss_usdt == 10_000


# ------------------------------------------------------------------------------ state()
def test_account_state_guide_isolated_at_57000():
    state = guide("isolated").state({BTC: 57_000})
    (position,) = state.positions
    assert position.notional == 19_000  # 1/3 × 57,000
    assert abs(position.initial_margin - 1_900) < USDT_TOL  # 19,000 / 10
    assert abs(position.maintenance_margin - 76) < USDT_TOL  # 19,000 × 0.4 %
    assert abs(position.unrealized_pnl - -1_000) < USDT_TOL  # 1/3 × (57,000 − 60,000)
    assert abs(position.roe - -0.5) < 1e-12  # −1,000 / 2,000
    assert abs(position.margin_balance - 1_000) < USDT_TOL  # 2,000 − 1,000
    assert abs(position.margin_ratio - 0.076) < 1e-12  # 76 / 1,000
    assert abs(state.margin_balance - 9_000) < USDT_TOL  # 10,000 − 1,000
    assert state.cross_wallet_balance == 8_000
    assert state.available_balance == 8_000  # no cross position: the whole pool
    assert state.cross_margin_ratio == 0.0


def test_account_state_guide_cross_at_57000():
    state = guide("cross").state({BTC: 57_000})
    (position,) = state.positions
    assert abs(position.margin_balance - 9_000) < USDT_TOL  # 10,000 − 1,000
    assert abs(state.cross_initial_margin - 1_900) < USDT_TOL
    assert abs(state.available_balance - 7_100) < USDT_TOL  # 9,000 − 1,900
    assert abs(state.cross_maintenance_margin - 76) < USDT_TOL
    assert abs(state.cross_margin_ratio - 76 / 9_000) < 1e-12  # 0.84 %
    assert abs(position.liquidation_price - 30_120.48) < USDT_TOL


def test_account_state_guide_cross_at_66000_profit():
    state = guide("cross").state({BTC: 66_000})
    (position,) = state.positions
    assert abs(position.unrealized_pnl - 2_000) < USDT_TOL  # 1/3 × 6,000
    assert abs(position.roe - 1.0) < 1e-12  # 2,000 / 2,000
    assert abs(position.maintenance_margin - 88) < USDT_TOL  # 22,000 × 0.4 %
    assert abs(state.available_balance - 9_800) < USDT_TOL  # 12,000 − 2,200
    assert abs(state.cross_margin_ratio - 88 / 12_000) < 1e-12


def test_account_state_default_marks_are_entry_prices():
    state = guide("isolated").state()
    (position,) = state.positions
    assert position.unrealized_pnl == 0
    assert abs(position.margin_ratio - 0.04) < 1e-12  # 80 / 2,000


def test_account_state_at_liquidation_price_ratio_is_one():
    account = guide("cross", neighbour="cross-eth")
    price = account.liquidation_price(BTC, ETH_2100)
    state = account.state({BTC: price, **ETH_2100})
    assert abs(state.cross_margin_ratio - 1.0) < 1e-9


def test_account_max_removable_margin_isolated_at_entry():
    # min(2,000 − 80, 2,000 + 0 − 2,000) = 0 at entry; after +1,000: min(2,920, 1,000)
    account = guide("isolated")
    assert account.max_removable_margin(BTC) == 0
    assert abs(account.add_margin(BTC, 1_000).max_removable_margin(BTC) - 1_000) < USDT_TOL


def test_account_remove_margin_moves_lp_back():
    account = guide("isolated").add_margin(BTC, 1_000).remove_margin(BTC, 1_000)
    assert abs(account.liquidation_price(BTC) - 54_216.87) < USDT_TOL
    assert account.cross_wallet_balance == 8_000


def test_account_deposit_moves_cross_lp_away():
    # M = 12,000: (60,000 − 36,000)/0.996 = 24,096.39
    account = guide("cross").deposit(2_000)
    assert abs(account.liquidation_price(BTC) - 24_096.39) < USDT_TOL


def test_account_cross_long_whole_wallet_at_1x_never_liquidates():
    account = Account(wallet_balance=10_000)
    account = account.open(BTC, side="long", price=60_000, leverage=1, margin=10_000)
    assert math.isnan(account.liquidation_price(BTC))


def test_account_position_missing_symbol_raises_margin_error():
    with pytest.raises(MarginError, match="symbol"):
        Account().position(BTC)


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_scenarios_guide_accounts_equal_the_worked_example(mode):
    from marginlab.scenarios import guide_account, losing_neighbour_account

    assert guide_account(mode) == guide(mode)
    assert losing_neighbour_account(mode) == guide(mode, neighbour="cross-eth")


def test_account_hedge_legs_default_marks_are_each_legs_entry():
    # ETH legs long 1 @ 3,000 and short 1 @ 3,300 (hedge, cross) beside the cross BTC long.
    # At their own entries: ETH uPnL 0, MM 3,000 × 0.4 % + 3,300 × 0.4 % = 25.2, so the BTC
    # LP is (60,000 − (10,000 − 25.2) × 3) / 0.996 = 30,196.39
    account = Account(wallet_balance=10_000).set_hedge_mode(True)
    account = account.open(ETH, side="long", price=3_000, leverage=10, quantity=1)
    account = account.open(ETH, side="short", price=3_300, leverage=10, quantity=1)
    account = account.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
    assert abs(account.liquidation_price(BTC) - 30_196.39) < USDT_TOL
    assert account.state().unrealized_pnl == 0


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_account_liquidation_price_worked_out_once_is_the_same_at_every_mark(mode):
    # An isolated price, or a cross one with no other cross symbol, depends on no mark:
    # the account keeps it, and every later read (any mark, state, levels) is that value.
    account = guide(mode)
    first = account.liquidation_price(BTC, {BTC: 80_000})
    assert first == pytest.approx(54_216.87 if mode == "isolated" else 30_120.48, abs=USDT_TOL)
    assert account.liquidation_price(BTC, {BTC: 40_000}) == first
    assert account.state({BTC: 45_000}).positions[0].liquidation_price == first
    assert account.levels(BTC, {BTC: 70_000}).liquidation_price == first


def test_account_liquidation_price_kept_is_not_passed_to_a_new_account():
    # add_margin returns a new account (dataclasses.replace): its price is its own.
    account = guide("isolated")
    before = account.liquidation_price(BTC)
    more = account.add_margin(BTC, 1_000)
    assert more.liquidation_price(BTC) < before - 1_000
    assert more.liquidation_price(BTC) == guide("isolated", added=1_000).liquidation_price(BTC)
    assert account.liquidation_price(BTC) == before


def test_account_cross_liquidation_price_moves_with_another_cross_symbol_mark():
    # The other cross position's unrealized PnL is in the formula: each mark is its own.
    account = guide("cross", neighbour="cross-eth")
    at_entry = account.liquidation_price(BTC)
    eth_down = account.liquidation_price(BTC, ETH_2100)
    assert eth_down > at_entry + 20_000  # ETH's 9,000 loss eats the wallet behind BTC
    assert account.liquidation_price(BTC) == at_entry
    assert account.liquidation_price(BTC, ETH_2100) == eth_down
