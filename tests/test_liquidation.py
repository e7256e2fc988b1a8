"""Closed-form liquidation prices: published and hand-worked examples (docs/formulas.md §2, §12)."""

import math

import numpy as np
import pytest

from marginlab.engine import (
    MarginError,
    bankruptcy_price,
    hedge_liquidation_price,
    liquidation_price,
    load_tiers,
    margin_ratio,
    side_sign,
    tiered_liquidation_price,
)

USDT_TOL = 0.005  # to the cent: every expected price below is published (or hand-worked) in cents

# ------------------------------------------------ formulas.md §12.1 Binance FAQ example
# Cross wallet 1,535,443.01 USDT. BTCUSDT long 109.488 @ 32,481.98, mark 31,967.27, bracket
# 2.5 % / cum 16,300. ETHUSDT long 3,683.979 @ 1,456.84, mark 1,335.18, bracket 10 % / cum
# 135,365. Expected prices: the FAQ and freqtrade's test_liquidation_price_binance.
FAQ_WALLET = 1_535_443.01
BTC = {
    "quantity": 109.488,
    "entry_price": 32_481.98,
    "mark": 31_967.27,
    "rate": 0.025,
    "cum": 16_300,
}
ETH = {
    "quantity": 3_683.979,
    "entry_price": 1_456.84,
    "mark": 1_335.18,
    "rate": 0.10,
    "cum": 135_365,
}


def _mm(pos):
    # BTC: 109.488 × 31,967.27 × 2.5 % − 16,300 = 71,200.81; ETH: 356,512.51
    return pos["quantity"] * pos["mark"] * pos["rate"] - pos["cum"]


def _upnl(pos):
    # BTC: 109.488 × (31,967.27 − 32,481.98) = −56,354.57; ETH: −448,192.89
    return pos["quantity"] * (pos["mark"] - pos["entry_price"])


def test_faq_terms_match_published_maintenance_and_pnl():
    assert abs(_mm(BTC) - 71_200.81) < USDT_TOL
    assert abs(_mm(ETH) - 356_512.51) < USDT_TOL
    assert abs(_upnl(BTC) - -56_354.57) < USDT_TOL
    assert abs(_upnl(ETH) - -448_192.89) < USDT_TOL


@pytest.mark.parametrize(
    ("target", "other", "mode", "expected"),
    [
        pytest.param(ETH, BTC, "cross", 1_153.26, id="cross-eth"),
        pytest.param(BTC, ETH, "cross", 26_316.89, id="cross-btc"),
        pytest.param(ETH, BTC, "isolated", 1_114.78, id="isolated-eth"),
        pytest.param(BTC, ETH, "isolated", 18_778.73, id="isolated-btc"),
    ],
)
def test_liquidation_price_binance_faq_example_to_the_cent(target, other, mode, expected):
    cross = mode == "cross"
    price = liquidation_price(
        side="long",
        quantity=target["quantity"],
        entry_price=target["entry_price"],
        wallet_balance=FAQ_WALLET,
        maintenance_rate=target["rate"],
        maintenance_amount=target["cum"],
        other_maintenance=_mm(other) if cross else 0.0,
        other_unrealized_pnl=_upnl(other) if cross else 0.0,
    )
    assert abs(price - expected) < USDT_TOL


# ------------------------------------------------ the guide's numbers (formulas.md §12.2)
GUIDE_Q = 20_000 / 60_000  # 1/3 BTC: 2,000 USDT at 10x from 60,000


@pytest.mark.parametrize(
    ("side", "wallet", "other_mm", "other_upnl", "expected"),
    [
        # long:  LP = (EP − M/Q)/(1 − MMR) = (60,000 − 6,000)/0.996 = 54,216.87
        pytest.param("long", 2_000, 0, 0, 54_216.87, id="isolated-long-10x"),
        # short: LP = (EP + M/Q)/(1 + MMR) = 66,000/1.004 = 65,737.05
        pytest.param("short", 2_000, 0, 0, 65_737.05, id="isolated-short-10x"),
        # (60,000 − 30,000)/0.996 = 30,120.48
        pytest.param("long", 10_000, 0, 0, 30_120.48, id="cross-long-10x"),
        # (60,000 + 30,000)/1.004 = 89,641.43
        pytest.param("short", 10_000, 0, 0, 89_641.43, id="cross-short-10x"),
        # M = 10,000 − 84 − 9,000 = 916: (60,000 − 2,748)/0.996 = 57,481.93
        pytest.param("long", 10_000, 84, -9_000, 57_481.93, id="cross-long-losing-neighbour"),
        # (60,000 + 2,748)/1.004 = 62,498.01
        pytest.param("short", 10_000, 84, -9_000, 62_498.01, id="cross-short-losing-neighbour"),
    ],
)
def test_liquidation_price_guide_rows_to_the_cent(side, wallet, other_mm, other_upnl, expected):
    price = liquidation_price(
        side=side,
        quantity=GUIDE_Q,
        entry_price=60_000,
        wallet_balance=wallet,
        maintenance_rate=0.004,
        other_maintenance=other_mm,
        other_unrealized_pnl=other_upnl,
    )
    assert abs(price - expected) < USDT_TOL


def test_liquidation_price_scalars_return_python_float():
    price = liquidation_price(
        side="long", quantity=1, entry_price=100, wallet_balance=10, maintenance_rate=0.0
    )
    # (100 − 10/1)/(1 − 0) = 90
    assert type(price) is float
    assert price == 90.0


def test_liquidation_price_arrays_broadcast_to_ndarray():
    prices = liquidation_price(
        side=np.array(["long", "short"])[:, None],
        quantity=1,
        entry_price=100,
        wallet_balance=np.array([10.0, 20.0]),
        maintenance_rate=0.0,
    )
    # long: 100 − M; short: 100 + M, for M = 10 and 20
    assert isinstance(prices, np.ndarray)
    assert prices.tolist() == [[90.0, 80.0], [110.0, 120.0]]


def test_liquidation_price_isolated_long_at_1x_is_nan():
    # margin = notional: LP = (EP − EP)/(1 − MMR) = 0 → no positive price liquidates it
    price = liquidation_price(
        side="long", quantity=1, entry_price=60_000, wallet_balance=60_000, maintenance_rate=0.004
    )
    assert math.isnan(price)


def test_liquidation_price_side_as_plus_minus_one_equals_strings():
    kwargs = {"quantity": GUIDE_Q, "entry_price": 60_000, "wallet_balance": 2_000}
    by_sign = liquidation_price(side=np.array([1, -1]), maintenance_rate=0.004, **kwargs)
    by_name = liquidation_price(side=["LONG", "short"], maintenance_rate=0.004, **kwargs)
    assert np.array_equal(by_sign, by_name)


def test_side_sign_values():
    assert side_sign("long") == 1.0
    assert side_sign(" Short ") == -1.0
    assert side_sign(np.array([-1, 1])).tolist() == [-1.0, 1.0]
    assert side_sign(np.array(["long", "Short"], dtype=object)).tolist() == [1.0, -1.0]


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["long", "short", "short", "long"]),  # "<U5": compared as integers
        np.array(["long", "short", "short", "long", "x", "y"])[[0, 1, 2, 3]],  # a copy
        np.array(["long", "x", "short", "x", "short", "x", "long", "x"])[::2],  # strided
        np.array(["long", "short", "short", "long"], dtype=">U5"),  # other byte order
        np.array(["long ", "SHORT", "short", "Long"], dtype="<U6"),  # spaces and case
    ],
    ids=["u5", "copy", "strided", "big-endian", "u6-case"],
)
def test_side_sign_string_arrays_every_layout(labels):
    assert side_sign(labels).tolist() == [1.0, -1.0, -1.0, 1.0]


@pytest.mark.parametrize("bad", ["lon", "shor", "longs", "lo ng", "s\x00ort"])
def test_side_sign_u5_array_refuses_near_misses(bad):
    with pytest.raises(MarginError, match="side must be 'long' or 'short'"):
        side_sign(np.array(["long", "short", bad]))


# ---------------------------------------------------------- bankruptcy (formulas.md §3)
@pytest.mark.parametrize(
    ("side", "expected"),
    [
        pytest.param("long", 54_000.0, id="isolated-long-10x"),  # 60,000 − 2,000 × 3
        pytest.param("short", 66_000.0, id="isolated-short-10x"),  # 60,000 + 2,000 × 3
    ],
)
def test_bankruptcy_price_guide_example(side, expected):
    price = bankruptcy_price(side=side, quantity=GUIDE_Q, entry_price=60_000, wallet_balance=2_000)
    assert abs(price - expected) < USDT_TOL


def test_bankruptcy_price_cross_long_whole_wallet_is_nan():
    # 1/3 BTC long backed by 20,000 USDT: BP = 60,000 − 60,000 = 0 → none
    price = bankruptcy_price(
        side="long", quantity=GUIDE_Q, entry_price=60_000, wallet_balance=20_000
    )
    assert math.isnan(price)


# -------------------------------------------------------- hedge mode (formulas.md §2.4)
def test_hedge_liquidation_price_two_legs_hand_value():
    # long 1/3 @ 60,000 and short 1/6 @ 60,000 sharing 5,000 USDT, both 0.4 %:
    # numerator 5,000 − 20,000 + 10,000 = −5,000; denominator 1/3·0.004 + 1/6·0.004 − 1/3 + 1/6
    # = 0.002 − 1/6 = −0.16466…; LP = 30,364.37
    price = hedge_liquidation_price(
        long_quantity=1 / 3,
        long_entry_price=60_000,
        short_quantity=1 / 6,
        short_entry_price=60_000,
        wallet_balance=5_000,
        long_maintenance_rate=0.004,
        short_maintenance_rate=0.004,
    )
    assert abs(price - 30_364.37) < USDT_TOL


def test_hedge_liquidation_price_one_leg_equals_one_way_formula():
    hedge = hedge_liquidation_price(
        long_quantity=0,
        long_entry_price=60_000,
        short_quantity=GUIDE_Q,
        short_entry_price=60_000,
        wallet_balance=2_000,
        long_maintenance_rate=0.004,
        short_maintenance_rate=0.004,
    )
    assert abs(hedge - 65_737.05) < USDT_TOL


def test_hedge_liquidation_price_equal_legs_no_maintenance_is_nan():
    # denominator 0 (fully hedged, no maintenance rate): never liquidated
    price = hedge_liquidation_price(
        long_quantity=1,
        long_entry_price=100,
        short_quantity=1,
        short_entry_price=100,
        wallet_balance=10,
        long_maintenance_rate=0.0,
        short_maintenance_rate=0.0,
    )
    assert math.isnan(price)


# ---------------------------------------------------------- margin ratio (formulas.md §1)
def test_margin_ratio_guide_isolated_at_57000():
    # MM = 19,000 × 0.4 % = 76; balance = 2,000 − 1,000 = 1,000 → 7.6 %
    ratio = margin_ratio(
        side="long",
        quantity=GUIDE_Q,
        entry_price=60_000,
        mark_price=57_000,
        wallet_balance=2_000,
        maintenance_rate=0.004,
    )
    assert abs(ratio - 0.076) < 1e-12


def test_margin_ratio_beyond_bankruptcy_is_inf():
    ratio = margin_ratio(
        side="long",
        quantity=GUIDE_Q,
        entry_price=60_000,
        mark_price=53_000,  # balance 2,000 − 2,333.33 < 0
        wallet_balance=2_000,
        maintenance_rate=0.004,
    )
    assert ratio == math.inf


# --------------------------------------------------- which bracket (formulas.md §2.5)
@pytest.mark.parametrize(
    ("side", "quantity", "wallet", "expected"),
    [
        # bracket 2 gives 50,175.88 (notional 200,704 → bracket 1); redone: 50,200.80
        pytest.param("long", 4, 200_000, 50_200.80, id="isolated-long-2x-drops-to-b1"),
        # bracket 1 gives 132,802.12 (notional 332,005 → bracket 2); redone: 132,789.39
        pytest.param("short", 2.5, 250_000 / 3, 132_789.39, id="isolated-short-3x-rises-to-b2"),
    ],
)
def test_tiered_liquidation_price_self_consistent_bracket(side, quantity, wallet, expected):
    price = tiered_liquidation_price(
        load_tiers("BTCUSDT"),
        side=side,
        quantity=quantity,
        entry_price=100_000,
        wallet_balance=wallet,
    )
    assert abs(price - expected) < USDT_TOL


def test_tiered_liquidation_price_notional_exactly_on_edge_not_nan():
    # Regression: LP notional on the 300,000 edge used to fall between the two brackets by
    # a rounding error and come back NaN. Long 8.3 BTC at 40,000; wallet chosen so that
    # LP × Q = 300,000: WB = Q·EP − 300,000 × (1 − 0.4 %) = 332,000 − 298,800 = 33,200.
    price = tiered_liquidation_price(
        load_tiers("BTCUSDT"), side="long", quantity=8.3, entry_price=40_000, wallet_balance=33_200
    )
    assert abs(price - 36_144.58) < USDT_TOL  # 300,000 / 8.3


def test_tiered_liquidation_price_arrays_match_scalars():
    table = load_tiers("ETHUSDT")
    sides = np.array(["long", "short", "long"])
    quantities = np.array([100.0, 100.0, 2_000.0])
    wallets = np.array([30_000.0, 30_000.0, 1_000_000.0])
    vector = tiered_liquidation_price(
        table, side=sides, quantity=quantities, entry_price=3_000, wallet_balance=wallets
    )
    for i in range(3):
        scalar = tiered_liquidation_price(
            table,
            side=sides[i],
            quantity=quantities[i],
            entry_price=3_000,
            wallet_balance=wallets[i],
        )
        assert vector[i] == scalar


def test_liquidation_price_bybit_example_differs_from_binance_formula():
    # docs/formulas.md §12.3: Bybit's long 1 BTC at 20,000, 50x, MMR 0.5 % has LP 19,700 (IM and
    # MM at entry, not divided by 1 − MMR). The Binance formula marginlab uses gives
    # (20,000 − 400) / 0.995 = 19,698.49: a different formula, not a rounding difference.
    price = liquidation_price(
        side="long", quantity=1, entry_price=20_000, wallet_balance=400, maintenance_rate=0.005
    )
    assert abs(price - 19_698.49) < USDT_TOL
    assert abs(price - 19_700) > 1
