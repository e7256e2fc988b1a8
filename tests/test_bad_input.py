"""Bad input (issues 2 and 10): a MarginError (a ValueError) or TypeError naming the
parameter and the rule, and the account left exactly as it was; nothing silently ignored."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from marginlab.engine import (
    Account,
    InsufficientMarginError,
    MarginError,
    ModeSwitchError,
    Position,
    bankruptcy_price,
    correlated_gbm_paths,
    gbm_paths,
    hedge_liquidation_price,
    liquidation_price,
    load_prices,
    load_tiers,
    margin_ratio,
    replay,
    risk_summary,
    simulate_paths,
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


# ------------------------------------------- issue 10: nothing silently ignored or wrong
def test_every_refused_rule_is_a_margin_error():
    # One error family: a rule refused is a MarginError (a ValueError); TypeError only for
    # a value that is not a number at all.
    refusals = [
        lambda: Account(wallet_balance=-1),
        lambda: build("isolated").open(BTC, side="long", price=60_000, leverage=0, margin=1),
        lambda: build("isolated").liquidate({"BTCUSD": 1_000}),
        lambda: liquidation_price(**{**GOOD, "wallet_balance": -1}),
        lambda: load_tiers("DOGEUSDT"),
        lambda: gbm_paths(60_000, 1, 1, volatility=20),
        lambda: replay(build("isolated"), {BTC: [60_000.0]}, stop_fill="limit"),
    ]
    for refuse in refusals:
        with pytest.raises(MarginError):
            refuse()
    assert issubclass(MarginError, ValueError)


@pytest.mark.parametrize(
    ("marks", "message"),
    [
        pytest.param(
            {"BTCUSD": 1_000},
            r"marks\['BTCUSD'\]: there is no open position on BTCUSD, so its mark would be "
            r"ignored; open positions are on BTCUSDT",
            id="unknown-symbol",
        ),
        pytest.param(
            None,
            r"marks: liquidate needs the mark prices to check, such as \{'BTCUSDT': 54000\}",
            id="none",
        ),
    ],
)
def test_liquidate_refuses_marks_it_would_ignore_and_changes_nothing(marks, message):
    account = build("isolated")
    with pytest.raises(MarginError, match=message):
        account.liquidate(marks)
    assert account == build("isolated")


def test_state_refuses_a_mark_for_a_symbol_without_a_position():
    with pytest.raises(MarginError, match=r"marks\['ETHUSDT'\]: there is no open position"):
        build("cross").state({"BTCUSDT": 60_000, "ETHUSDT": 3_000})


@pytest.mark.parametrize(
    ("function", "kwargs"),
    [
        pytest.param(liquidation_price, {**GOOD, "wallet_balance": -1.0}, id="liquidation_price"),
        pytest.param(
            bankruptcy_price,
            {"side": "long", "quantity": 1, "entry_price": 60_000, "wallet_balance": [5, -1]},
            id="bankruptcy_price",
        ),
        pytest.param(
            margin_ratio, {**GOOD, "mark_price": 55_000, "wallet_balance": -1}, id="margin_ratio"
        ),
        pytest.param(
            lambda **kw: tiered_liquidation_price(load_tiers(BTC), **kw),
            {"side": "long", "quantity": 1, "entry_price": 60_000, "wallet_balance": -1},
            id="tiered",
        ),
        pytest.param(
            hedge_liquidation_price,
            {
                "long_quantity": 1,
                "long_entry_price": 60_000,
                "short_quantity": 0.5,
                "short_entry_price": 60_000,
                "wallet_balance": -1,
                "long_maintenance_rate": 0.004,
                "short_maintenance_rate": 0.004,
            },
            id="hedge",
        ),
    ],
)
def test_formulas_refuse_a_negative_wallet_balance(function, kwargs):
    with pytest.raises(
        MarginError, match=r"wallet_balance must be a finite number of USDT, 0 or more"
    ):
        function(**kwargs)


def test_formulas_name_the_parameters_whose_shapes_do_not_broadcast():
    with pytest.raises(
        MarginError,
        match=r"quantity \(shape \(2,\)\) and entry_price \(shape \(3,\)\) do not broadcast "
        r"together in liquidation_price",
    ):
        liquidation_price(**{**GOOD, "quantity": [1.0, 2.0], "entry_price": [1.0, 2.0, 3.0]})
    with pytest.raises(MarginError, match=r"quantity \(shape \(2,\)\) and wallet_balance"):
        bankruptcy_price(side="long", quantity=[1, 2], entry_price=60_000, wallet_balance=[1, 2, 3])


@pytest.mark.parametrize(
    ("function", "kwargs"),
    [
        pytest.param(
            liquidation_price, {**GOOD, "quantity": 1e200, "entry_price": 1e200}, id="lp-product"
        ),
        pytest.param(
            bankruptcy_price,
            {"side": "long", "quantity": 1e-320, "entry_price": 60_000, "wallet_balance": 1e10},
            id="bp-tiny-quantity",
        ),
        pytest.param(
            margin_ratio,
            {**GOOD, "quantity": 1e200, "entry_price": 1e200, "mark_price": 1e200},
            id="ratio",
        ),
    ],
)
def test_formulas_refuse_finite_inputs_whose_result_overflows(function, kwargs):
    with pytest.raises(MarginError, match=r"out of range: the result overflows float64"):
        function(**kwargs)


@pytest.mark.parametrize(
    ("position", "message"),
    [
        pytest.param(
            lambda: Position(BTC, "long", -1.0, 60_000, 10, "cross"),
            "quantity must be greater than 0",
            id="negative-quantity",
        ),
        pytest.param(
            lambda: Position(BTC, "long", 1.0, 0.0, 10, "cross"),
            "entry_price must be greater than 0",
            id="zero-entry",
        ),
        pytest.param(
            lambda: Position(BTC, "long", 1.0, 60_000, 0, "cross"),
            "leverage must be at least 1",
            id="zero-leverage",
        ),
        pytest.param(
            lambda: Position(BTC, "long", 1.0, 60_000, 10, "isolated", 0.0),
            "isolated_margin must be greater than 0 USDT for an isolated position",
            id="isolated-without-margin",
        ),
        pytest.param(
            lambda: Position(BTC, "long", 1.0, 60_000, 10, "cross", 500.0),
            "isolated_margin must be 0 for a cross position",
            id="cross-with-margin",
        ),
        pytest.param(
            lambda: Position(BTC, "sideways", 1.0, 60_000, 10, "cross"),
            "side must be 'long' or 'short'",
            id="side",
        ),
    ],
)
def test_position_refuses_inconsistent_numbers(position, message):
    with pytest.raises(MarginError, match=message):
        position()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"margin_modes": {BTC: "cross"}},
            "positions: the BTCUSDT position is isolated but the account sets BTCUSDT to cross",
            id="mode-disagrees",
        ),
        pytest.param(
            {"wallet_balance": 1_500.0},
            r"positions: the isolated margins add up to 2,000.00 USDT, more than the wallet "
            r"balance 1,500.00 USDT",
            id="margins-above-wallet",
        ),
        pytest.param(
            {"positions_twice": True},
            "positions: two BTCUSDT positions; one position per symbol is allowed",
            id="duplicate",
        ),
    ],
)
def test_account_refuses_positions_that_disagree_with_it(changes, message):
    good = build("isolated")
    fields = {
        "wallet_balance": good.wallet_balance,
        "positions": good.positions,
        "margin_modes": dict(good.margin_modes),
    }
    if changes.pop("positions_twice", False):
        fields["positions"] = good.positions * 2
    fields.update(changes)
    with pytest.raises(MarginError, match=message):
        Account(**fields)


def test_account_refuses_a_wallet_beyond_the_exact_range():
    with pytest.raises(MarginError, match=r"wallet_balance must be at most 1,000,000,000,000 USDT"):
        Account(wallet_balance=1e20)
    with pytest.raises(MarginError, match=r"amount: depositing .* above 1,000,000,000,000 USDT"):
        Account(wallet_balance=1e12).deposit(1)


def test_loss_at_liquidation_stays_exact_at_the_top_of_the_range():
    # 2,000 isolated in a 1e12 wallet: the loss is the margin, exactly, not a difference of
    # two balances of 1e12 (where float64's spacing is 1.2e-4).
    account = (
        Account(wallet_balance=1e12)
        .set_margin_mode(BTC, "isolated")
        .open(BTC, side="long", price=60_000, leverage=10, margin=2_000)
    )
    outcome = account.liquidate({BTC: 50_000})
    assert outcome.loss_usdt == 2_000.0
    assert outcome.kept_usdt == 1e12 - 2_000


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda a: replay(a, {BTC: [60_000.0]}, funding_rate=0.001),
            "funding_rate: 0.001 was given without funding_interval_steps",
            id="replay",
        ),
        pytest.param(
            lambda a: simulate_paths(a, {BTC: np.full((1, 2), 60_000.0)}, funding_rate=0.001),
            "funding_rate: 0.001 was given without funding_interval_steps",
            id="simulate",
        ),
        pytest.param(
            lambda a: risk_summary(np.full((1, 2), 60_000.0), [10], funding_rate=0.001),
            "funding_rate: 0.001 was given without funding_interval_steps",
            id="risk_summary",
        ),
        pytest.param(
            lambda a: a.apply_funding({BTC: 60_000}, rate=0.05),
            r"rate must be between -0.03 and 0.03",
            id="apply_funding",
        ),
        pytest.param(
            lambda a: replay(a, {BTC: [60_000.0]}, stop_fill="mark"),
            "stop_fill must be 'market' .* or 'stop'",
            id="old-stop-fill-name",
        ),
    ],
)
def test_funding_and_stop_options_that_would_be_ignored_are_refused(call, message):
    account = build("isolated")
    with pytest.raises(MarginError, match=message):
        call(account)
    assert account == build("isolated")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"n_paths": 100_000, "n_steps": 10_000},
            r"n_paths, n_steps: 100,000 paths × 10,000 steps need about 7.5 GiB, more than the "
            r"1 GiB allowed",
            id="multi-GiB",
        ),
        pytest.param(
            {"n_paths": 2, "n_steps": 100_000, "volatility": 10},
            r"volatility: over 11.42 years .* float64 prices then reach 0 or infinity",
            id="zeros-from-volatility",
        ),
        pytest.param(
            {"n_paths": 2, "n_steps": 10, "step_hours": 1e6, "drift_rate": 5},
            r"drift_rate: over .* reach 0 or infinity",
            id="inf-from-drift",
        ),
        pytest.param(
            {"n_paths": 2, "n_steps": 1_000, "jump_intensity": 1e4, "jump_mean": -5},
            r"jump_intensity, jump_mean, jump_std: over .* reach 0 or infinity",
            id="zeros-from-jumps",
        ),
    ],
)
def test_gbm_paths_refuses_settings_it_cannot_honour(kwargs, message):
    with pytest.raises(MarginError, match=message):
        gbm_paths(60_000, **kwargs)


def test_correlated_gbm_paths_counts_every_array_it_allocates():
    # two symbols: 2 shocks + 1 jump array + 2 results = 5 arrays of 30 M prices = 1.1 GiB
    with pytest.raises(MarginError, match=r"n_paths, n_steps: .* more than the 1 GiB allowed"):
        correlated_gbm_paths({BTC: 60_000, ETH: 3_000}, 30_000, 1_000)


def test_load_prices_refuses_what_it_would_read_wrongly(tmp_path):
    twice = tmp_path / "twice.csv"
    twice.write_text("timestamp,close,Close\n1,2,3\n2,3,4\n", encoding="utf-8")
    with pytest.raises(
        MarginError, match=r"columns 'close' and 'Close' in twice.csv name the same column"
    ):
        load_prices(twice)
    with pytest.raises(MarginError, match=r"columns 'close' and 'CLOSE ' name the same column"):
        load_prices(pd.DataFrame({"timestamp": [1, 2], "close": [1, 2], "CLOSE ": [3, 4]}))
    with pytest.raises(MarginError, match=r"source: '.*' is a directory, not a CSV file"):
        load_prices(tmp_path)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("timestamp,close\n1,42000\n2,4200\xa30\n".encode("latin-1"))
    with pytest.raises(
        MarginError,
        match=r"source: latin.csv is not UTF-8 text: row 2 \(line 3\) has the byte 0xa3",
    ):
        load_prices(latin)


def test_calc_charts_and_widgets_refuse_with_margin_errors_too():
    # one error family beyond the engine: the calculator and a chart builder
    from marginlab.calc import calculate, parse_neighbour
    from marginlab.charts import Ladder

    with pytest.raises(MarginError, match="neighbour must look like SYMBOL:SIDE:QUANTITY@ENTRY"):
        parse_neighbour("ETH:long")
    with pytest.raises(MarginError, match="modes must name at least one"):
        calculate(modes=())
    with pytest.raises(MarginError, match="entry_price must be greater than 0"):
        Ladder({}, mark_price=60_000.0, entry_price=-1.0, side="long")
