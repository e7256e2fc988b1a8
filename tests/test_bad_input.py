"""Bad input (issue 2, "Bad input"): ValueError or TypeError naming the parameter and the
rule, and the account left exactly as it was."""

import math
import re

import numpy as np
import pytest

from marginlab.engine import (
    Account,
    InsufficientMarginError,
    MarginError,
    ModeSwitchError,
    liquidation_price,
    load_tiers,
    margin_ratio,
    tiered_liquidation_price,
)

BTC, ETH = "BTCUSDT", "ETHUSDT"
NAN, INF = math.nan, math.inf


def build(name):
    """Fresh accounts: "empty" 10,000 USDT, "funded" 100,000 USDT; "isolated"/"cross": the
    guide's BTC long (2,000 USDT at 10x from 60,000) in the 10,000 USDT account."""
    if name == "funded":
        return Account(wallet_balance=100_000)
    account = Account(wallet_balance=10_000)
    if name == "empty":
        return account
    account = account.set_margin_mode(BTC, name)
    return account.open(BTC, side="long", price=60_000, leverage=10, margin=2_000)


def open_btc(**changes):
    order = {"side": "long", "price": 60_000, "leverage": 10, "margin": 2_000}
    order.update(changes)
    return lambda account: account.open(BTC, **order)


# (start, operation, error, parameter named, rule in the message)
ACCOUNT_CASES = [
    # leverage 0, negative, NaN, above the bracket's maximum
    ("empty", open_btc(leverage=0), ValueError, "leverage", "between 1 and 150", "leverage-0"),
    ("empty", open_btc(leverage=-5), ValueError, "leverage", "between 1 and 150", "leverage-neg"),
    ("empty", open_btc(leverage=NAN), ValueError, "leverage", "finite", "leverage-nan"),
    ("empty", open_btc(leverage=151), ValueError, "leverage", "between 1 and 150", "leverage-151"),
    ("empty", open_btc(leverage="10"), TypeError, "leverage", "number", "leverage-str"),
    # 120x on a 480,000 notional: bracket 2 allows at most 100x
    (
        "funded",
        open_btc(leverage=120, margin=None, quantity=8),
        ValueError,
        "leverage",
        r"at most 100x .*bracket 2",
        "leverage-above-bracket-2",
    ),
    # price 0, negative, NaN, infinite
    ("empty", open_btc(price=0), ValueError, "price", "greater than 0", "price-0"),
    ("empty", open_btc(price=-60_000), ValueError, "price", "greater than 0", "price-neg"),
    ("empty", open_btc(price=NAN), ValueError, "price", "finite", "price-nan"),
    ("empty", open_btc(price=INF), ValueError, "price", "finite", "price-inf"),
    # side other than long/short
    ("empty", open_btc(side="buy"), ValueError, "side", "'long' or 'short'", "side-buy"),
    ("empty", open_btc(side=1), ValueError, "side", "'long' or 'short'", "side-number"),
    # margin 0, negative, NaN, more than available; quantity 0, negative; not exactly one
    ("empty", open_btc(margin=0), ValueError, "margin", "greater than 0", "margin-0"),
    ("empty", open_btc(margin=-1), ValueError, "margin", "greater than 0", "margin-neg"),
    ("empty", open_btc(margin=NAN), ValueError, "margin", "finite", "margin-nan"),
    (
        "empty",
        open_btc(margin=10_001),
        InsufficientMarginError,
        "margin",
        "available",
        "margin-10001",
    ),
    (
        "isolated",
        open_btc(margin=8_001),
        InsufficientMarginError,
        "margin",
        "available",
        "margin-8001",
    ),
    ("empty", open_btc(margin=None, quantity=0), ValueError, "quantity", "greater than 0", "qty-0"),
    (
        "empty",
        open_btc(margin=None, quantity=-1),
        ValueError,
        "quantity",
        "greater than 0",
        "qty-neg",
    ),
    ("empty", open_btc(quantity=1), ValueError, "quantity", "exactly one", "margin-and-quantity"),
    ("empty", open_btc(margin=None), ValueError, "margin", "exactly one", "neither"),
    # an unknown margin mode
    (
        "empty",
        lambda a: a.set_margin_mode(BTC, "portfolio"),
        ValueError,
        "mode",
        "'cross' or 'isolated'",
        "mode-unknown",
    ),
    # adding or removing margin on a cross position or a symbol with no position
    ("cross", lambda a: a.add_margin(BTC, 100), MarginError, "symbol", "isolated", "add-cross"),
    ("cross", lambda a: a.remove_margin(BTC, 100), MarginError, "symbol", "isolated", "rm-cross"),
    ("isolated", lambda a: a.add_margin(ETH, 100), MarginError, "symbol", "no open", "add-none"),
    ("isolated", lambda a: a.remove_margin(ETH, 100), MarginError, "symbol", "no open", "rm-none"),
    # amounts: not positive, more than available, more than removable
    ("isolated", lambda a: a.add_margin(BTC, 0), ValueError, "margin", "greater than 0", "add-0"),
    ("isolated", lambda a: a.add_margin(BTC, NAN), ValueError, "margin", "finite", "add-nan"),
    (
        "isolated",
        lambda a: a.add_margin(BTC, 8_001),
        InsufficientMarginError,
        "margin",
        "at most 8,000.00",
        "add-over-available",
    ),
    (
        "isolated",
        lambda a: a.remove_margin(BTC, 1),
        InsufficientMarginError,
        "margin",
        "at most 0.00",
        "remove-over-allowed",
    ),
    (
        "isolated",
        lambda a: a.add_margin(BTC, 1_000).remove_margin(BTC, 1_000.01),
        InsufficientMarginError,
        "margin",
        "at most 1,000.00",
        "remove-over-allowed-after-add",
    ),
    # a mode switch with an open position
    (
        "isolated",
        lambda a: a.set_margin_mode(BTC, "cross"),
        ModeSwitchError,
        "mode",
        "while a position is open",
        "switch-with-position",
    ),
    ("cross", lambda a: a.deposit(-5), ValueError, "amount", "greater than 0", "deposit-neg"),
]


@pytest.mark.parametrize(
    ("start", "operation", "error", "parameter", "rule"),
    [pytest.param(*case[:5], id=case[5]) for case in ACCOUNT_CASES],
)
def test_account_bad_input_raises_naming_parameter_and_rule_account_unchanged(
    start, operation, error, parameter, rule
):
    account = build(start)
    with pytest.raises(error) as caught:
        operation(account)
    message = str(caught.value)
    assert re.search(rf"\b{parameter}\b", message), message
    assert re.search(rule, message), message
    assert account == build(start)


@pytest.mark.parametrize(
    ("value", "error", "rule"),
    [
        pytest.param(-1, ValueError, "0 or more", id="negative"),
        pytest.param(NAN, ValueError, "finite", id="nan"),
        pytest.param(INF, ValueError, "finite", id="inf"),
        pytest.param("10000", TypeError, "number", id="string"),
        pytest.param(True, TypeError, "number", id="bool"),
    ],
)
def test_account_bad_wallet_balance_raises_naming_it(value, error, rule):
    with pytest.raises(error, match=rf"wallet_balance.*{rule}"):
        Account(wallet_balance=value)


def test_account_mode_switch_error_is_a_value_error():
    assert issubclass(ModeSwitchError, ValueError)
    assert issubclass(InsufficientMarginError, ValueError)


# ---------------------------------------------------------------- the vectorized formulas
GOOD = {
    "side": "long",
    "quantity": 1 / 3,
    "entry_price": 60_000.0,
    "wallet_balance": 2_000.0,
    "maintenance_rate": 0.004,
}


@pytest.mark.parametrize(
    ("changes", "error", "parameter", "rule"),
    [
        pytest.param({"side": "buy"}, ValueError, "side", "'long' or 'short'", id="side-buy"),
        pytest.param({"side": ["long", "sell"]}, ValueError, "side", "'sell'", id="side-array"),
        pytest.param({"side": [1, 0]}, ValueError, "side", r"\+1", id="side-zero"),
        pytest.param({"quantity": 0}, ValueError, "quantity", "greater than 0", id="qty-0"),
        pytest.param({"quantity": [1, -2]}, ValueError, "quantity", "-2.0", id="qty-array"),
        pytest.param({"quantity": True}, TypeError, "quantity", "number", id="qty-bool"),
        pytest.param({"quantity": [1, INF]}, ValueError, "quantity", "inf", id="qty-inf"),
        pytest.param({"entry_price": NAN}, ValueError, "entry_price", "finite", id="entry-nan"),
        pytest.param({"entry_price": INF}, ValueError, "entry_price", "finite", id="entry-inf"),
        pytest.param({"wallet_balance": NAN}, ValueError, "wallet_balance", "finite", id="wb-nan"),
        pytest.param(
            {"wallet_balance": [1.0, INF]}, ValueError, "wallet_balance", "inf", id="wb-inf"
        ),
        pytest.param(
            {"wallet_balance": "2000"}, TypeError, "wallet_balance", "number", id="wb-string"
        ),
        pytest.param(
            {"maintenance_rate": 0.4e2}, ValueError, "maintenance_rate", r"\[0, 1\)", id="mmr-40"
        ),
        pytest.param(
            {"maintenance_rate": -0.004}, ValueError, "maintenance_rate", r"\[0, 1\)", id="mmr-neg"
        ),
        pytest.param(
            {"maintenance_amount": NAN}, ValueError, "maintenance_amount", "finite", id="cum-nan"
        ),
        pytest.param(
            {"other_maintenance": INF}, ValueError, "other_maintenance", "finite", id="tmm-inf"
        ),
        pytest.param(
            {"other_unrealized_pnl": -INF},
            ValueError,
            "other_unrealized_pnl",
            "finite",
            id="upnl-inf",
        ),
    ],
)
def test_liquidation_price_bad_input_raises_naming_parameter(changes, error, parameter, rule):
    with pytest.raises(error) as caught:
        liquidation_price(**{**GOOD, **changes})
    message = str(caught.value)
    assert re.search(rf"\b{parameter}\b", message), message
    assert re.search(rule, message), message


def test_margin_ratio_bad_mark_price_raises_naming_it():
    with pytest.raises(ValueError, match=r"mark_price.*greater than 0"):
        margin_ratio(mark_price=np.array([50_000.0, 0.0]), **GOOD)


def test_tiered_liquidation_price_bad_wallet_raises_naming_it():
    with pytest.raises(ValueError, match=r"wallet_balance.*finite"):
        tiered_liquidation_price(
            load_tiers(BTC), side="long", quantity=1, entry_price=60_000, wallet_balance=NAN
        )
