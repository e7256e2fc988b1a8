"""Invariants of the margin engine, checked with hypothesis (docs/formulas.md §2-§5, §7-§8).

Example counts come from the profile in ``tests/conftest.py`` (200, no deadline).
"""

import itertools
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from marginlab.engine import (
    Account,
    bankruptcy_price,
    liquidation_price,
    load_tiers,
    margin_ratio,
    tiered_liquidation_price,
)

REL = 1e-9  # relative tolerance for "exactly" (float rounding only)
BTC, ETH = "BTCUSDT", "ETHUSDT"
SYMBOLS = (BTC, ETH)

sides = st.sampled_from(["long", "short"])
modes = st.sampled_from(["isolated", "cross"])
quantities = st.floats(min_value=1e-3, max_value=1e3)
prices = st.floats(min_value=1.0, max_value=2e5)
wallets = st.floats(min_value=0.0, max_value=1e7)
rates = st.floats(min_value=0.001, max_value=0.5)
usdt_terms = st.floats(min_value=0.0, max_value=1e5)
pnl_terms = st.floats(min_value=-1e5, max_value=1e5)


def close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def well_conditioned(price: float, entry: float) -> bool:
    """A liquidation price at which the ratio can be checked to 1e-9.

    At the price the margin balance equals the maintenance margin, Q·P·MMR, a difference
    of terms of size Q·EP; its rounding error relative to itself is about 1e-16·EP/(P·MMR).
    A price of 1e-11 USDT (a 1x long whose wallet is its notional up to one rounding: the
    exact price is 0) leaves no significant digits, so such prices are left out.
    """
    return not math.isnan(price) and price > 1e-3 * entry


@st.composite
def opened(draw, symbol=BTC, mode=None):
    """An account with one position on ``symbol`` that the exchange rules accept."""
    side = draw(sides)
    mode = draw(modes) if mode is None else mode
    price = draw(st.floats(min_value=100.0, max_value=2e5))
    notional = draw(st.floats(min_value=100.0, max_value=5e6))
    top = int(load_tiers(symbol).max_leverage(notional))
    leverage = draw(st.integers(min_value=1, max_value=top))
    initial = notional / leverage
    spare = draw(st.floats(min_value=0.0, max_value=5e6))
    account = Account(wallet_balance=initial + spare).set_margin_mode(symbol, mode)
    return account.open(
        symbol, side=side, price=price, leverage=leverage, quantity=notional / price
    )


# ----------------------------------------------------- margin ratio is 100 % at the LP
@given(
    side=sides,
    quantity=quantities,
    entry=prices,
    wallet=wallets,
    rate=rates,
    other_mm=usdt_terms,
    other_pnl=pnl_terms,
)
def test_margin_ratio_at_liquidation_price_is_one(
    side, quantity, entry, wallet, rate, other_mm, other_pnl
):
    terms = {
        "side": side,
        "quantity": quantity,
        "entry_price": entry,
        "wallet_balance": wallet,
        "maintenance_rate": rate,
        "other_maintenance": other_mm,
        "other_unrealized_pnl": other_pnl,
    }
    price = liquidation_price(**terms)
    assume(well_conditioned(price, entry))
    assert close(margin_ratio(mark_price=price, **terms), 1.0)


@given(account=opened())
def test_account_state_at_liquidation_price_ratio_is_one(account):
    price = account.liquidation_price(BTC)
    assume(well_conditioned(price, account.position(BTC).entry_price))
    state = account.state({BTC: price})
    (position,) = state.positions
    assert close(position.margin_ratio, 1.0)
    # the same price from the account state itself
    assert position.liquidation_price == price


@given(account=opened(mode="cross"), eth_side=sides, eth_mark=st.floats(1_000.0, 5_000.0))
def test_account_cross_ratio_is_one_at_lp_with_neighbour(account, eth_side, eth_mark):
    # a cross ETH neighbour of 1 ETH at 3,000, 10x, marked anywhere in 1,000..5,000
    account = account.deposit(300).open(ETH, side=eth_side, price=3_000, leverage=10, quantity=1)
    marks = {ETH: eth_mark}
    price = account.liquidation_price(BTC, marks)
    assume(not math.isnan(price))
    assert close(account.state({**marks, BTC: price}).cross_margin_ratio, 1.0)


# --------------------------------------------------------------- loss at liquidation
@given(account=opened(mode="isolated"), move=st.floats(min_value=-0.99, max_value=3.0))
def test_isolated_loss_never_above_assigned_margin(account, move):
    position = account.position(BTC)
    mark = position.entry_price * (1 + move)
    outcome = account.liquidate({BTC: mark})
    assert outcome.loss_usdt <= position.isolated_margin * (1 + REL)
    if outcome.happened:
        assert close(outcome.loss_usdt, position.isolated_margin)
    else:
        # still open: the price loss has not eaten the margin
        assert position.unrealized_pnl(mark) > -position.isolated_margin


@given(
    account=opened(mode="cross"),
    move=st.floats(min_value=-0.99, max_value=3.0),
    isolated_eth=st.booleans(),
)
def test_cross_loss_never_above_cross_wallet(account, move, isolated_eth):
    if isolated_eth:  # an isolated neighbour keeps its margin out of the cross pool
        account = account.deposit(1_000).set_margin_mode(ETH, "isolated")
        account = account.open(ETH, side="long", price=3_000, leverage=10, margin=1_000)
    position = account.position(BTC)
    mark = position.entry_price * (1 + move)
    marks = {BTC: mark, ETH: 3_000} if isolated_eth else {BTC: mark}  # no mark without position
    outcome = account.liquidate(marks)
    assert outcome.loss_usdt <= account.cross_wallet_balance * (1 + REL)
    if outcome.happened:
        assert close(outcome.loss_usdt, account.cross_wallet_balance)
        assert [p.symbol for p in outcome.account.positions] == ([ETH] if isolated_eth else [])
    else:
        assert position.unrealized_pnl(mark) > -account.cross_wallet_balance


# --------------------------------------------------------------------- long/short mirror
@given(
    quantity=quantities,
    entry=prices,
    wallet=wallets,
    rate=rates,
    other_mm=usdt_terms,
    other_pnl=pnl_terms,
)
def test_liquidation_price_long_short_mirror(quantity, entry, wallet, rate, other_mm, other_pnl):
    # long (1 − MMR)·LP = EP − M/Q and short (1 + MMR)·LP = EP + M/Q, M the same USDT:
    # so (1 − MMR)·LP_long + (1 + MMR)·LP_short = 2·EP
    terms = {
        "quantity": quantity,
        "entry_price": entry,
        "wallet_balance": wallet,
        "maintenance_rate": rate,
        "other_maintenance": other_mm,
        "other_unrealized_pnl": other_pnl,
    }
    long_price = liquidation_price(side="long", **terms)
    short_price = liquidation_price(side="short", **terms)
    assume(not math.isnan(long_price) and not math.isnan(short_price))
    mirrored = (1 - rate) * long_price + (1 + rate) * short_price
    assert abs(mirrored - 2 * entry) <= REL * (entry + abs(short_price))


@given(quantity=quantities, entry=prices, margin=st.floats(0.0, 1e5))
def test_bankruptcy_price_long_short_mirror_around_entry(quantity, entry, margin):
    terms = {"quantity": quantity, "entry_price": entry, "wallet_balance": margin}
    long_price = bankruptcy_price(side="long", **terms)
    assume(not math.isnan(long_price))
    short_price = bankruptcy_price(side="short", **terms)
    assert abs(long_price + short_price - 2 * entry) <= REL * short_price


# --------------------------------------------------------------------------- monotonic
@given(
    side=sides,
    quantity=quantities,
    entry=prices,
    rate=st.floats(0.001, 0.1),
    low=st.integers(1, 150),
    high=st.integers(1, 150),
)
def test_isolated_more_leverage_never_moves_lp_away_from_entry(
    side, quantity, entry, rate, low, high
):
    # margin = notional / leverage: a long's LP rises toward entry, a short's falls toward it
    # (with 1/leverage < rate, beyond entry: liquidated at once); NaN (none) counts as 0
    low, high = sorted((low, high))

    def price(leverage):
        result = liquidation_price(
            side=side,
            quantity=quantity,
            entry_price=entry,
            wallet_balance=quantity * entry / leverage,
            maintenance_rate=rate,
        )
        return 0.0 if math.isnan(result) else result

    sign = 1 if side == "long" else -1
    assert sign * (price(high) - price(low)) >= -REL * entry
    if 1 / high > rate and price(high) > 0:  # a leverage the brackets allow: LP before entry
        assert sign * (entry - price(high)) > 0


@given(account=opened(mode="isolated"), amount=st.floats(1.0, 1e5))
def test_isolated_added_margin_moves_lp_away_from_entry(account, amount):
    account = account.deposit(amount)
    before = account.liquidation_price(BTC)
    after = account.add_margin(BTC, amount).liquidation_price(BTC)
    entry = account.position(BTC).entry_price
    if math.isnan(before):  # a long that cannot be liquidated stays so
        assert math.isnan(after)
    elif not math.isnan(after):
        assert abs(after - entry) > abs(before - entry)


# ------------------------------------------------------- a neighbour's PnL, by mode
@given(
    mode=modes,
    side=sides,
    eth_side=sides,
    low=st.floats(1_500.0, 4_500.0),
    high=st.floats(1_500.0, 4_500.0),
)
def test_neighbour_pnl_moves_cross_lp_never_isolated(mode, side, eth_side, low, high):
    assume(abs(high - low) > 1.0)
    low, high = sorted((low, high))
    account = Account(wallet_balance=10_000).set_margin_mode(BTC, mode)
    account = account.open(ETH, side=eth_side, price=3_000, leverage=10, quantity=1)
    account = account.open(BTC, side=side, price=60_000, leverage=10, margin=2_000)
    lp_low = account.liquidation_price(BTC, {ETH: low})
    lp_high = account.liquidation_price(BTC, {ETH: high})
    if mode == "isolated":
        assert lp_low == lp_high
        return
    assume(not math.isnan(lp_low) and not math.isnan(lp_high))
    # a higher ETH mark is a gain for an ETH long (a loss for a short): more (less) USDT
    # behind the BTC position, so its LP moves away from (toward) entry
    gain = eth_side == "long"
    further_from_entry = abs(lp_high - 60_000) > abs(lp_low - 60_000)
    assert further_from_entry == gain


# ---------------------------------------------------- brackets (formulas.md §2.5, §4)
EDGES = [
    pytest.param(symbol, below, above, id=f"{symbol}-{int(above.floor):,}")
    for symbol in SYMBOLS
    for below, above in itertools.pairwise(load_tiers(symbol).tiers)
]


@pytest.mark.parametrize(("symbol", "below", "above"), EDGES)
def test_maintenance_margin_continuous_at_every_edge(symbol, below, above):
    edge = above.floor
    assert below.cap == edge
    assert abs(below.maintenance_margin(edge) - above.maintenance_margin(edge)) < 1e-6
    table = load_tiers(symbol)
    assert abs(table.maintenance_margin(edge) - below.maintenance_margin(edge)) < 1e-6


@given(symbol=st.sampled_from(SYMBOLS), notional=st.floats(0.0, 1.8e9), step=st.floats(0.0, 1e4))
def test_maintenance_margin_moves_at_most_step_times_top_rate(symbol, notional, step):
    # continuous and piecewise linear with slopes <= 50 %: |MM(N + d) − MM(N)| <= 0.5·d
    table = load_tiers(symbol)
    notional = min(notional, table.max_notional)
    upper = min(notional + step, table.max_notional)
    change = table.maintenance_margin(upper) - table.maintenance_margin(notional)
    assert -1e-6 <= change <= 0.5 * (upper - notional) + 1e-6


@given(
    symbol=st.sampled_from(SYMBOLS),
    side=sides,
    quantity=st.floats(0.01, 5e3),
    entry=st.floats(100.0, 2e5),
    wallet=st.floats(0.0, 1e8),
    other_mm=usdt_terms,
    other_pnl=pnl_terms,
)
def test_tiered_liquidation_price_notional_in_bracket_used(
    symbol, side, quantity, entry, wallet, other_mm, other_pnl
):
    table = load_tiers(symbol)
    terms = {
        "side": side,
        "quantity": quantity,
        "entry_price": entry,
        "wallet_balance": wallet,
        "other_maintenance": other_mm,
        "other_unrealized_pnl": other_pnl,
    }
    price = tiered_liquidation_price(table, **terms)
    assume(not math.isnan(price))
    tier = table.lookup(min(quantity * price, table.max_notional))
    # the bracket holding the notional at the price gives back the same price
    again = liquidation_price(
        maintenance_rate=tier.maintenance_rate,
        maintenance_amount=tier.maintenance_amount,
        **terms,
    )
    assert close(again, price)
