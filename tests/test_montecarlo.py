"""simulate_paths: many paths at once, exactly the replay's rules, vectorized."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marginlab.engine import (
    Account,
    correlated_gbm_paths,
    gbm_paths,
    replay,
    simulate_paths,
    teaching_path,
)

EXACT = 1e-9  # USDT


def single(mode: str, side: str = "long", leverage: float = 10, margin: float = 2_000) -> Account:
    account = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", mode)
    return account.open("BTCUSDT", side=side, price=60_000, leverage=leverage, margin=margin)


def first_crossing(path_set: np.ndarray, price: float, side: str) -> np.ndarray:
    """Independent check: first step where the mark is at or past ``price``; -1 if never."""
    crossed = path_set <= price if side == "long" else path_set >= price
    return np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)


VOLATILE = gbm_paths(60_000, 300, 400, volatility=1.5, jump_intensity=30.0, seed=7)


# ------------------------------------------------------------------- closed form
@pytest.mark.parametrize("mode", ["isolated", "cross"])
@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize("leverage", [10, 50])
def test_simulate_single_position_liquidates_at_first_crossing_of_closed_form(mode, side, leverage):
    account = single(mode, side, leverage, margin=2_000 if leverage == 10 else 1_000)
    lp = account.liquidation_price("BTCUSDT")
    expected = first_crossing(VOLATILE, lp, side)
    result = simulate_paths(account, {"BTCUSDT": VOLATILE})
    assert (expected >= 0).any() and (expected < 0).any()  # both outcomes occur
    np.testing.assert_array_equal(result.liquidated_at["BTCUSDT"], expected)


def test_simulate_isolated_liquidation_keeps_everything_but_the_margin():
    account = single("isolated")
    result = simulate_paths(account, {"BTCUSDT": VOLATILE})
    gone = result.liquidated("BTCUSDT")
    assert gone.sum() > 50
    assert (result.final_wallet_usdt[gone] == 8_000.0).all()
    assert (result.final_equity_usdt[gone] == 8_000.0).all()
    assert (result.loss_usdt["BTCUSDT"][gone] == 2_000.0).all()


def test_simulate_cross_liquidation_takes_the_pool_and_leaves_isolated_untouched():
    # ETH isolated long (10 ETH at 3,000, 10x: 3,000 margin); BTC cross long with the rest.
    account = (
        Account(wallet_balance=10_000)
        .set_margin_mode("ETHUSDT", "isolated")
        .open("ETHUSDT", side="long", price=3_000, leverage=10, quantity=10)
        .open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    )
    prices = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000},
        300,
        400,
        correlation=0.0,
        volatility={"BTCUSDT": 2.5, "ETHUSDT": 0.5},
        seed=5,
    )
    result = simulate_paths(account, prices)
    cross_gone = result.liquidated("BTCUSDT")
    eth_open = ~result.liquidated("ETHUSDT")
    both = cross_gone & eth_open
    assert both.sum() > 10
    # the cross wallet (7,000) is gone; what is left is exactly the ETH margin
    assert (result.loss_usdt["BTCUSDT"][cross_gone] == 7_000.0).all()
    assert (result.final_wallet_usdt[both] == 3_000.0).all()
    eth_pnl = 10 * (prices["ETHUSDT"][both, -1] - 3_000)
    np.testing.assert_allclose(result.final_equity_usdt[both], 3_000 + eth_pnl, rtol=0, atol=EXACT)
    # the isolated position's fate is the same with or without its cross neighbour
    alone = (
        Account(wallet_balance=10_000)
        .set_margin_mode("ETHUSDT", "isolated")
        .open("ETHUSDT", side="long", price=3_000, leverage=10, quantity=10)
    )
    alone_result = simulate_paths(alone, {"ETHUSDT": prices["ETHUSDT"]})
    np.testing.assert_array_equal(
        alone_result.liquidated_at["ETHUSDT"], result.liquidated_at["ETHUSDT"]
    )


# ----------------------------------------------------------------------- stops
def test_simulate_stop_above_the_lp_exits_at_its_first_crossing_where_the_market_is():
    account = single("isolated")
    result = simulate_paths(account, {"BTCUSDT": VOLATILE}, stops={"BTCUSDT": 57_000})
    stop_at = first_crossing(VOLATILE, 57_000, "long")
    # The stop (57,000) lies above the LP (54,216.87): the falling price always meets it
    # first, even when one step gaps through both, so every crossing is a stop exit.
    np.testing.assert_array_equal(result.stopped_at["BTCUSDT"], stop_at)
    np.testing.assert_array_equal(result.liquidated_at["BTCUSDT"], np.full(len(VOLATILE), -1))
    # filled at the step's price (the worse of it and the stop): the gap fills at the gap,
    # and the loss (60,000 − fill)/3 never exceeds the 2,000 margin
    stopped = stop_at >= 0
    fills = VOLATILE[np.flatnonzero(stopped), stop_at[stopped]]
    assert (fills < 57_000).any()  # some steps gap through the stop
    np.testing.assert_array_equal(result.exit_price["BTCUSDT"][stopped], np.minimum(fills, 57_000))
    expected = np.minimum((60_000 - fills) / 3, 2_000.0)
    np.testing.assert_allclose(result.loss_usdt["BTCUSDT"][stopped], expected, rtol=0, atol=EXACT)
    assert (expected == 2_000.0).any()  # gaps past bankruptcy: the margin and no more


def test_simulate_idealised_stop_fills_at_the_stop_price():
    result = simulate_paths(
        single("isolated"), {"BTCUSDT": VOLATILE}, stops={"BTCUSDT": 57_000}, stop_fill="stop"
    )
    stopped = result.stopped("BTCUSDT")
    assert stopped.sum() > 100
    assert (result.exit_price["BTCUSDT"][stopped] == 57_000.0).all()
    # loss (60,000 − 57,000)/3 = 1,000 on every stopped path
    np.testing.assert_allclose(result.loss_usdt["BTCUSDT"][stopped], 1_000.0, rtol=0, atol=EXACT)


def test_simulate_stop_below_the_lp_never_fires_before_liquidation():
    account = single("isolated")
    result = simulate_paths(account, {"BTCUSDT": VOLATILE}, stops={"BTCUSDT": 53_000})
    liq_at = first_crossing(VOLATILE, account.liquidation_price("BTCUSDT"), "long")
    np.testing.assert_array_equal(result.liquidated_at["BTCUSDT"], liq_at)
    assert not result.stopped().any()


def test_simulate_open_position_loss_is_minus_its_unrealized_pnl():
    path_set = np.array([[60_000.0, 61_000.0, 63_000.0], [60_000.0, 58_000.0, 57_000.0]])
    result = simulate_paths(single("cross"), {"BTCUSDT": path_set})
    # (63,000 − 60,000)/3 = +1,000 and (57,000 − 60,000)/3 = −1,000
    np.testing.assert_allclose(result.loss_usdt["BTCUSDT"], [-1_000.0, 1_000.0], atol=EXACT)
    np.testing.assert_allclose(result.final_equity_usdt, [11_000.0, 9_000.0], atol=EXACT)
    np.testing.assert_allclose(result.loss_total_usdt, [-1_000.0, 1_000.0], atol=EXACT)
    assert np.isnan(result.exit_price["BTCUSDT"]).all()


# ------------------------------------------------------------ agreement with replay
def _accounts() -> dict[str, Account]:
    base = Account(wallet_balance=10_000, fee_rate=0.0005, liquidation_fee_rate=0.002)
    cross_pair = base.open("BTCUSDT", side="long", price=60_000, leverage=20, margin=2_000).open(
        "ETHUSDT", side="short", price=3_000, leverage=20, margin=2_000
    )
    mixed = (
        base.set_margin_mode("ETHUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=20, margin=2_000)
        .open("ETHUSDT", side="short", price=3_000, leverage=25, margin=1_000)
    )
    hedged = (
        base.set_hedge_mode(True)
        .open("BTCUSDT", side="long", price=60_000, leverage=20, margin=2_000)
        .open("BTCUSDT", side="short", price=60_000, leverage=20, margin=1_000)
        .open("ETHUSDT", side="long", price=3_000, leverage=20, margin=1_000)
    )
    # Notionals around the 300,000 edge of brackets 1 and 2: the pool's maintenance margin
    # changes bracket along the paths.
    large = (
        Account(wallet_balance=120_000, fee_rate=0.0005)
        .open("BTCUSDT", side="long", price=60_000, leverage=10, quantity=5.2)
        .open("ETHUSDT", side="short", price=3_000, leverage=10, quantity=98)
    )
    # 100 USDT isolated at 100x: 3 % funding (300) is more than its margin
    thin = (
        base.set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=100, margin=100)
        .open("ETHUSDT", side="short", price=3_000, leverage=20, margin=1_000)
    )
    return {
        "cross-pair": cross_pair,
        "mixed": mixed,
        "hedge-mode": hedged,
        "large-notional": large,
        "thin-isolated": thin,
    }


def _agreement_prices() -> dict[str, np.ndarray]:
    """Five joint paths of 90 steps: crashes, squeezes, whipsaws and two seeded walks."""
    n = 90
    btc = [
        teaching_path("steady_decline", start_price=60_000, n_steps=n, depth_rate=0.5),
        np.full(n, 60_000.0),
        teaching_path("whipsaw", start_price=60_000, n_steps=n, depth_rate=0.07),
    ]
    eth = [
        np.full(n, 3_000.0),
        teaching_path(
            "steady_decline", start_price=3_000, n_steps=n, depth_rate=0.3, against="short"
        ),
        teaching_path("whipsaw", start_price=3_000, n_steps=n, depth_rate=0.07, against="short"),
    ]
    walks = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000}, 2, n, correlation=0.3, volatility=2.0, seed=11
    )
    return {
        "BTCUSDT": np.vstack([*btc, walks["BTCUSDT"]]),
        "ETHUSDT": np.vstack([*eth, walks["ETHUSDT"]]),
    }


AGREEMENT_PRICES = _agreement_prices()


def _wicks(marks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Last prices: the marks with a wick of ±6 % every 7th step (down on even paths)."""
    lasts = {}
    for symbol, array in marks.items():
        wick = np.ones_like(array)
        wick[0::2, 3::7] = 0.94
        wick[1::2, 3::7] = 1.06
        lasts[symbol] = array * wick
    return lasts


AGREEMENT_LASTS = _wicks(AGREEMENT_PRICES)
OPTIONS = {
    "plain": {},
    "funding": {"funding_rate": 0.002, "funding_interval_steps": 8},
    # 3 % per interval at 20x-25x: funding alone can use up an isolated margin or the pool
    "funding-liquidates": {"funding_rate": 0.03, "funding_interval_steps": 7},
    "stops": {
        "stops": "first-two",
        "slippage_rate": 0.002,
        "funding_rate": -0.001,
        "funding_interval_steps": 5,
    },
    "idealised-stops": {"stops": "first-two", "stop_fill": "stop"},
    "wicks-last": {"stops": "first-two", "last_prices": "wicks"},
    "wicks-mark": {"stops": "first-two", "last_prices": "wicks", "stop_trigger": "mark"},
}


@pytest.mark.parametrize("option_name", list(OPTIONS))
@pytest.mark.parametrize("account_name", list(_accounts()))
def test_simulate_agrees_with_replay_bit_for_bit(account_name, option_name):
    account = _accounts()[account_name]
    options = dict(OPTIONS[option_name])
    if options.get("stops") == "first-two":
        # a stop 4 % on the losing side of each of the first two positions
        options["stops"] = {
            key: p.entry_price * (1 - 0.04 * p.sign)
            for key, p in zip(_keys(account), account.positions[:2], strict=False)
        }
    lasts = options.pop("last_prices", None)
    symbols = {p.symbol for p in account.positions}
    marks = {s: a for s, a in AGREEMENT_PRICES.items() if s in symbols}
    if lasts is not None:
        options["last_prices"] = {s: AGREEMENT_LASTS[s] for s in marks}
    result = simulate_paths(account, marks, **options)
    events = 0
    for i in range(result.n_paths):
        path = {s: marks[s][i] for s in marks}
        if lasts is not None:
            options["last_prices"] = {s: AGREEMENT_LASTS[s][i] for s in marks}
        reference = replay(account, path, **options)
        events += len(reference.events)
        for key in result.keys:
            assert result.liquidated_at[key][i] == reference.liquidated_at[key]
            assert result.stopped_at[key][i] == reference.stopped_at[key]
        assert result.final_wallet_usdt[i] == reference.timeline["wallet_usdt"].iloc[-1]
        assert result.final_equity_usdt[i] == reference.final_equity_usdt
        frame = reference.events_frame()
        funding = frame.loc[frame["kind"] == "funding", "amount_usdt"].sum()
        fees = -frame.loc[frame["kind"].isin(["fee", "liquidation_fee"]), "amount_usdt"].sum()
        assert result.funding_usdt[i] == pytest.approx(funding, abs=EXACT)
        assert result.fees_usdt[i] == pytest.approx(fees, abs=EXACT)
    assert events > 0


def test_simulate_funding_moves_an_isolated_lp_across_a_bracket_edge_like_replay():
    # 5 BTC long from 75,000 at 5x: LP 60,241.21, notional there 301,206 (bracket 2).
    # Negative funding pays the long ~1,000 every 3 steps, so its margin grows and its LP
    # falls through 60,000, where the notional at the LP drops into bracket 1.
    account = (
        Account(wallet_balance=100_000)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=75_000, leverage=5, quantity=5)
    )
    assert account.liquidation_price("BTCUSDT") == pytest.approx(60_241.21, abs=0.005)
    paths = np.linspace(75_000, 55_000, 61)[None, :] * gbm_paths(1.0, 6, 61, volatility=0.3, seed=2)
    options = {"funding_rate": -0.003, "funding_interval_steps": 3}
    result = simulate_paths(account, {"BTCUSDT": paths}, **options)
    for i in range(6):
        reference = replay(account, {"BTCUSDT": paths[i]}, **options)
        last_lp = reference.timeline["BTCUSDT.liquidation_price"].dropna().iloc[-1]
        assert last_lp < 60_000  # the edge was crossed before the liquidation
        assert result.liquidated_at["BTCUSDT"][i] == reference.liquidated_at["BTCUSDT"] > 0
        assert result.final_equity_usdt[i] == reference.final_equity_usdt


def _keys(account: Account) -> list[str]:
    if account.hedge_mode:
        return [f"{p.symbol}:{p.side.value}" for p in account.positions]
    return [p.symbol for p in account.positions]


def test_simulate_agreement_set_exercises_every_kind_of_event():
    # Guard for the test above: its paths really liquidate, stop out and pay funding.
    account = _accounts()["mixed"]
    options = {
        "stops": {"BTCUSDT": 57_600.0},
        "funding_rate": 0.002,
        "funding_interval_steps": 8,
    }
    kinds = set()
    for i in range(AGREEMENT_PRICES["BTCUSDT"].shape[0]):
        path = {s: AGREEMENT_PRICES[s][i] for s in AGREEMENT_PRICES}
        kinds |= {e.kind for e in replay(account, path, **options).events}
    assert kinds == {"funding", "liquidation", "liquidation_fee", "insurance_fund", "stop", "fee"}


def test_simulate_agreement_set_exercises_the_engine_truth_rules():
    # Guard for the agreement test: its options really liquidate on funding (an isolated
    # position and a cross pool), fill a stop past bankruptcy (the insurance fund covers
    # the rest) and fire a stop on a last-price wick the mark does not follow.
    seen = set()
    for account in _accounts().values():
        for option_name in ("funding-liquidates", "wicks-last", "stops"):
            options = dict(OPTIONS[option_name])
            if options.get("stops") == "first-two":
                options["stops"] = {
                    key: p.entry_price * (1 - 0.04 * p.sign)
                    for key, p in zip(_keys(account), account.positions[:2], strict=False)
                }
            wicks = options.pop("last_prices", None) is not None
            symbols = {p.symbol for p in account.positions}
            for i in range(AGREEMENT_PRICES["BTCUSDT"].shape[0]):
                path = {s: AGREEMENT_PRICES[s][i] for s in symbols}
                if wicks:
                    options["last_prices"] = {s: AGREEMENT_LASTS[s][i] for s in symbols}
                events = replay(account, path, **options).events
                margins = {
                    k: p.isolated_margin
                    for k, p in zip(_keys(account), account.positions, strict=True)
                }
                stops = {(e.step, e.symbol) for e in events if e.kind == "stop"}
                funded = {
                    (e.step, e.symbol)
                    for e in events
                    if e.kind == "funding" and e.symbol and e.amount_usdt == -margins[e.symbol]
                }
                for e in events:
                    if e.kind == "liquidation" and (e.step, e.symbol) in funded:
                        seen.add("isolated funding liquidation")
                    if e.kind == "insurance_fund" and (e.step, e.symbol) in stops:
                        seen.add("stop covered by the insurance fund")
                seen |= {
                    "pool funding liquidation"
                    for e in events
                    if e.kind == "funding" and e.symbol is None
                }
                for e in events:
                    if e.kind == "stop" and wicks:
                        p = next(q for q in account.positions if e.symbol.startswith(q.symbol))
                        if p.sign * (e.mark_price - options["stops"][e.symbol]) > 0:
                            seen.add("stop on a wick the mark did not reach")
    assert seen == {
        "isolated funding liquidation",
        "pool funding liquidation",
        "stop covered by the insurance fund",
        "stop on a wick the mark did not reach",
    }


# ------------------------------------------------------------------- reproducibility
def test_simulate_seeded_runs_are_bit_for_bit_reproducible():
    account = _accounts()["mixed"]

    def run():
        prices = correlated_gbm_paths(
            {"BTCUSDT": 60_000, "ETHUSDT": 3_000},
            200,
            150,
            correlation=0.4,
            volatility=1.5,
            jump_intensity=20,
            seed=99,
        )
        return simulate_paths(account, prices, stops={"BTCUSDT": 58_000}, funding_interval_steps=8)

    first, second = run(), run()
    assert first.final_equity_usdt.tobytes() == second.final_equity_usdt.tobytes()
    for key in first.keys:
        assert first.liquidated_at[key].tobytes() == second.liquidated_at[key].tobytes()
        assert first.exit_price[key].tobytes() == second.exit_price[key].tobytes()


def test_simulate_each_path_is_independent_of_the_others():
    # Paths are processed in chunks and re-scanned after events; none of that may leak:
    # path i simulated alone gives the same outcome as inside the set.
    account = _accounts()["cross-pair"]
    prices = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000}, 400, 500, correlation=0.2, volatility=2.0, seed=3
    )
    whole = simulate_paths(account, prices, funding_interval_steps=16)
    for i in (0, 131, 262, 399):
        alone = simulate_paths(
            account, {s: a[i : i + 1] for s, a in prices.items()}, funding_interval_steps=16
        )
        assert alone.final_equity_usdt[0] == whole.final_equity_usdt[i]
        for key in whole.keys:
            assert alone.liquidated_at[key][0] == whole.liquidated_at[key][i]


# -------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    leverage=st.sampled_from([2, 5, 10, 25, 50, 100]),
    side=st.sampled_from(["long", "short"]),
    seed=st.integers(0, 10_000),
)
def test_simulate_loss_never_exceeds_what_backs_the_position(leverage, side, seed):
    prices = {"BTCUSDT": gbm_paths(60_000, 50, 200, volatility=2.0, jump_intensity=50, seed=seed)}
    isolated = simulate_paths(single("isolated", side, leverage, 1_000), prices)
    cross = simulate_paths(single("cross", side, leverage, 1_000), prices)
    assert (isolated.loss_total_usdt <= 1_000.0 + EXACT).all()
    assert (cross.loss_total_usdt <= 10_000.0 + EXACT).all()
    # a bigger pool behind the same position is never liquidated earlier
    iso_at = isolated.liquidated_at["BTCUSDT"]
    cross_at = cross.liquidated_at["BTCUSDT"]
    assert ((cross_at < 0) | ((iso_at >= 0) & (iso_at <= cross_at))).all()


# ------------------------------------------------------------------ result helpers
def test_simulation_result_frame_and_helpers():
    path_set = np.array([[60_000.0, 50_000.0], [60_000.0, 61_000.0]])
    result = simulate_paths(single("isolated"), {"BTCUSDT": path_set})
    assert result.n_paths == 2
    assert result.final_equity is result.final_equity_usdt  # the name for it
    assert result.n_steps == 2
    assert result.liquidated().tolist() == [True, False]
    assert result.stopped().tolist() == [False, False]
    frame = result.to_frame()
    assert frame.index.name == "path"
    assert frame["BTCUSDT.liquidated_at"].tolist() == [1, -1]
    assert frame["final_equity_usdt"].round(2).tolist() == [8_000.0, 10_333.33]


def test_simulate_account_without_positions_keeps_its_wallet():
    result = simulate_paths(Account(wallet_balance=500), {"BTCUSDT": VOLATILE[:3]})
    assert result.keys == ()
    assert result.final_equity_usdt.tolist() == [500.0, 500.0, 500.0]


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("prices", "error", "match"),
    [
        pytest.param(
            {"BTCUSDT": np.full(5, 60_000.0)},
            ValueError,
            r"must have shape \(n_paths, n_steps\).*got shape \(5,\); for one path use",
            id="1-d",
        ),
        pytest.param(
            {"BTCUSDT": np.array([[60_000.0, 1.0], [60_000.0, np.nan]])},
            ValueError,
            r"prices\['BTCUSDT'\]\[path 1, step 1\] must be a finite price greater than 0 USDT, "
            "got nan",
            id="nan",
        ),
        pytest.param(
            {"BTCUSDT": np.array([[60_000.0, -5.0]])},
            ValueError,
            r"\[path 0, step 1\] must be a finite price",
            id="negative",
        ),
        pytest.param(
            {"ETHUSDT": np.ones((2, 2))},
            ValueError,
            "prices: no paths for BTCUSDT",
            id="missing",
        ),
        pytest.param({"BTCUSDT": [["a", "b"]]}, TypeError, "must be an array of prices", id="text"),
        pytest.param(np.ones((2, 2)), TypeError, "prices must be a mapping", id="bare-array"),
    ],
)
def test_simulate_bad_prices_say_what_is_wrong(prices, error, match):
    with pytest.raises(error, match=match):
        simulate_paths(single("isolated"), prices)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="checked-while-scanning"),
        pytest.param({"funding_interval_steps": 8}, id="checked-first"),
    ],
)
def test_simulate_bad_price_far_into_the_array_is_found(options):
    # Path 0 crashes to 1 USDT at step 1 (liquidated at once), so its later steps are never
    # needed by the simulation; a NaN there, and one in a later chunk of paths, is still found.
    prices = gbm_paths(60_000, 1_000, 400, volatility=0.5, seed=1)
    prices[0, 1:] = 1.0
    prices[0, 300] = np.nan
    with pytest.raises(ValueError, match=r"\[path 0, step 300\] must be a finite price"):
        simulate_paths(single("isolated"), {"BTCUSDT": prices}, **options)
    prices[0, 300] = 1.0
    prices[900, 350] = -1.0
    with pytest.raises(ValueError, match=r"\[path 900, step 350\] must be a finite price"):
        simulate_paths(single("isolated"), {"BTCUSDT": prices}, **options)


def test_simulate_mismatched_shapes_are_refused():
    account = _accounts()["cross-pair"]
    prices = {"BTCUSDT": np.ones((3, 4)), "ETHUSDT": np.ones((3, 5))}
    with pytest.raises(ValueError, match=r"same \(n_paths, n_steps\), got BTCUSDT: \(3, 4\)"):
        simulate_paths(account, prices)


def test_simulate_stop_on_the_wrong_side_is_refused():
    with pytest.raises(ValueError, match=r"must be above the entry price 60,000\.00 for a short"):
        simulate_paths(single("cross", "short"), {"BTCUSDT": VOLATILE}, stops={"BTCUSDT": 59_000})


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"stops": {"BTCUSDT": 57_000}}, id="watched-by-a-stop"),
        pytest.param({}, id="no-stop"),
        pytest.param({"stops": {"BTCUSDT": 57_000}, "stop_trigger": "mark"}, id="stop-on-mark"),
    ],
)
def test_simulate_bad_last_price_is_found_wherever_it_is(options):
    prices = gbm_paths(60_000, 50, 30, volatility=0.5, seed=4)
    last = prices.copy()
    last[33, 17] = np.nan
    with pytest.raises(ValueError, match=r"last_prices\['BTCUSDT'\]\[path 33, step 17\]"):
        simulate_paths(
            single("isolated"), {"BTCUSDT": prices}, last_prices={"BTCUSDT": last}, **options
        )


def test_simulate_last_prices_must_match_the_marks():
    prices = {"BTCUSDT": np.full((2, 3), 60_000.0)}
    with pytest.raises(ValueError, match=r"must have the shape of its mark prices \(2, 3\)"):
        simulate_paths(single("isolated"), prices, last_prices={"BTCUSDT": np.ones((2, 4))})
    with pytest.raises(ValueError, match=r"prices\['ETHUSDT'\]: there is no open position"):
        simulate_paths(single("isolated"), {**prices, "ETHUSDT": np.ones((2, 3))})


# ----------------------------------------------------------------- simulated_timelines
@pytest.mark.parametrize("mode", ["cross", "isolated"])
@pytest.mark.parametrize("stops", [None, {"BTCUSDT": 55_000.0}], ids=["no-stop", "btc-stop"])
def test_simulated_timelines_equal_replay_path_by_path(mode, stops):
    from marginlab.engine import simulated_timelines

    account = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", mode)
    account = account.set_margin_mode("ETHUSDT", mode)
    account = account.open("BTCUSDT", side="long", price=60_000, leverage=20, margin=1_500)
    account = account.open("ETHUSDT", side="short", price=3_000, leverage=20, margin=1_500)
    prices = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000}, 60, 150, correlation=0.2, volatility=1.5, seed=9
    )
    result = simulate_paths(account, prices, stops=stops)
    lines = simulated_timelines(account, prices, result)
    assert result.liquidated().any() and (~result.liquidated()).any()
    for path in range(0, 60, 3):
        one = replay(account, {s: p[path] for s, p in prices.items()}, stops=stops)
        np.testing.assert_array_equal(lines["equity_usdt"][path], one.timeline["equity_usdt"])
        for key in one.keys:
            np.testing.assert_array_equal(
                lines[f"{key}.margin_ratio"][path], one.timeline[f"{key}.margin_ratio"]
            )


def test_simulated_timelines_refuse_a_result_that_paid_funding():
    from marginlab.engine import simulated_timelines

    account = single("isolated")
    prices = {"BTCUSDT": VOLATILE[:5, :40]}
    result = simulate_paths(account, prices, funding_rate=0.001, funding_interval_steps=8)
    with pytest.raises(ValueError, match="it paid funding"):
        simulated_timelines(account, prices, result)
