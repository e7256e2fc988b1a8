"""The guide's "when to use" cases: each claim reproduced with numbers, and where it stops."""

from __future__ import annotations

import numpy as np
import pytest

from marginlab.engine import Account, simulate_paths
from marginlab.scenarios import (
    WHEN_TO_USE,
    hedge,
    high_leverage_short_term,
    large_account_small_positions,
    several_independent_positions,
    strategy_with_limited_capital,
    trend_trade_through_drawdown,
    when_to_use,
)

EXACT = 1e-9  # USDT
MMR = 0.004  # bracket 1 for every notional in these scenarios


def long_lp(wallet: float, quantity: float, entry: float = 60_000.0) -> float:
    """One-way long LP with ``wallet`` behind it: (EP − W/Q)/(1 − MMR) (docs/formulas.md §2.2)."""
    return (entry - wallet / quantity) / (1 - MMR)


def short_lp(wallet: float, quantity: float, entry: float) -> float:
    return (entry + wallet / quantity) / (1 + MMR)


def touched_below(paths: np.ndarray, price: float) -> np.ndarray:
    return paths.min(axis=1) <= price


# -------------------------------------------------------------------------- catalogue
def test_when_to_use_lists_the_six_cases_in_the_guides_order():
    assert list(WHEN_TO_USE) == [
        "hedge",
        "large_account_small_positions",
        "trend_trade_through_drawdown",
        "high_leverage_short_term",
        "several_independent_positions",
        "strategy_with_limited_capital",
    ]


@pytest.mark.parametrize("name", list(WHEN_TO_USE))
def test_when_to_use_scenario_is_complete_and_reproducible(name):
    scenario = when_to_use(name, n_paths=20)
    again = when_to_use(name, n_paths=20)
    assert scenario.name == name
    assert scenario.favours in ("cross", "isolated")
    for text in (scenario.claim, scenario.caveat, scenario.title):
        assert text and "\n" not in text
    cross, isolated = scenario.account("cross"), scenario.account("isolated")
    assert [(p.symbol, p.side, p.quantity, p.entry_price) for p in cross.positions] == [
        (p.symbol, p.side, p.quantity, p.entry_price) for p in isolated.positions
    ]
    assert all(not p.is_isolated for p in cross.positions)
    assert all(p.is_isolated for p in isolated.positions)
    assert cross.wallet_balance == isolated.wallet_balance == scenario.wallet_balance
    for symbol, paths in scenario.prices.items():
        assert paths.shape[0] == scenario.n_paths == 20
        assert paths.tobytes() == again.prices[symbol].tobytes()


def test_when_to_use_replay_follows_one_path_like_the_simulation():
    scenario = trend_trade_through_drawdown(n_paths=3)
    simulated = scenario.simulate("isolated")
    for path in range(3):
        replayed = scenario.replay("isolated", path)
        assert replayed.liquidated_at["BTCUSDT"] == simulated.liquidated_at["BTCUSDT"][path]
        assert replayed.final_equity_usdt == simulated.final_equity_usdt[path]
    with pytest.raises(ValueError, match="path must be between 0 and 2, got 3"):
        scenario.replay("cross", 3)


def test_when_to_use_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="name must be one of hedge, large_account"):
        when_to_use("scalping")


def test_when_to_use_account_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode must be one of cross, isolated"):
        hedge(n_paths=2).account("portfolio")


# --------------------------------------------------------------------- §4: cross
def test_hedge_cross_shares_margin_and_is_liquidated_far_less_often():
    scenario = hedge()
    table = scenario.compare()
    # Isolated legs each have their own closed-form LP: BTC long 54,216.87, ETH short
    # 3,000·(1 + 1/10)/(1 + MMR) = 3,286.85; a path liquidates if either leg reaches it.
    btc, eth = scenario.prices["BTCUSDT"], scenario.prices["ETHUSDT"]
    isolated_share = (
        touched_below(btc, long_lp(2_000, 1 / 3))
        | (eth.max(axis=1) >= short_lp(2_000, 20 / 3, 3_000))
    ).mean()
    assert table.loc["isolated", "liquidation_probability"] == isolated_share > 0.5
    assert table.loc["cross", "liquidation_probability"] == 0.0


def test_hedge_without_correlation_cross_can_lose_the_whole_account():
    # Uncorrelated legs are two bets: cross loses all 10,000 on some paths, isolated at
    # most the two margins, 4,000.
    table = hedge(correlation=0.0).compare()
    assert table.loc["cross", "worst_loss_usdt"] == pytest.approx(10_000.0, abs=EXACT)
    assert table.loc["isolated", "worst_loss_usdt"] <= 4_000.0 + EXACT
    assert table.loc["cross", "mean_loss_if_liquidated_usdt"] == pytest.approx(10_000.0, abs=EXACT)


def test_large_account_cross_has_no_liquidation_price_isolated_does():
    scenario = large_account_small_positions()
    # Cross: (60,000 − 100,000·3)/0.996 < 0: no positive price liquidates it.
    assert np.isnan(scenario.account("cross").liquidation_price("BTCUSDT"))
    table = scenario.compare()
    paths = scenario.prices["BTCUSDT"]
    assert table.loc["cross", "liquidation_probability"] == 0.0
    isolated_share = touched_below(paths, long_lp(2_000, 1 / 3)).mean()  # LP 54,216.87
    assert table.loc["isolated", "liquidation_probability"] == isolated_share > 0.5
    assert table.loc["isolated", "mean_loss_if_liquidated_usdt"] == 2_000.0


def test_large_account_buffer_is_gone_when_the_position_is_large():
    # 10,000 behind 5,000 × 10x (Q = 5/6): LP (60,000 − 12,000)/0.996 = 48,192.77, and a
    # cross liquidation takes the whole 10,000 while isolated loses its 5,000.
    scenario = large_account_small_positions(wallet_balance=10_000, margin=5_000)
    lp = long_lp(10_000, 5 / 6)
    assert scenario.account("cross").liquidation_price("BTCUSDT") == pytest.approx(lp, abs=EXACT)
    table = scenario.compare()
    share = touched_below(scenario.prices["BTCUSDT"], lp).mean()
    assert table.loc["cross", "liquidation_probability"] == share > 0.2
    assert table.loc["cross", "mean_loss_if_liquidated_usdt"] == pytest.approx(10_000.0, abs=EXACT)
    assert table.loc["isolated", "mean_loss_if_liquidated_usdt"] == 5_000.0


def test_trend_trade_cross_rides_out_the_drawdown_isolated_is_liquidated():
    scenario = trend_trade_through_drawdown()
    paths = scenario.prices["BTCUSDT"]
    table = scenario.compare()
    # cross LP 30,120.48 is never reached; isolated LP 54,216.87 is, on most paths
    assert not touched_below(paths, long_lp(10_000, 1 / 3)).any()
    assert table.loc["cross", "liquidation_probability"] == 0.0
    share = touched_below(paths, long_lp(2_000, 1 / 3)).mean()
    assert table.loc["isolated", "liquidation_probability"] == share >= 0.9
    # cross ends in profit on most paths; an isolated liquidation costs its 2,000
    assert table.loc["cross", "final_equity_p50_usdt"] > 12_000
    assert table.loc["cross", "mean_loss_usdt"] < 0
    assert table.loc["isolated", "mean_loss_if_liquidated_usdt"] == 2_000.0


def test_trend_trade_without_recovery_cross_loses_far_more():
    # A steady fall to −35 %: isolated loses exactly its 2,000 on every path; cross holds
    # on and loses several times that.
    table = trend_trade_through_drawdown(recovers=False).compare()
    assert table.loc["isolated", "mean_loss_usdt"] == 2_000.0
    assert table.loc["cross", "mean_loss_usdt"] > 3 * 2_000.0


# ------------------------------------------------------------------ §5: isolated
def test_high_leverage_isolated_caps_the_day_at_its_margin():
    table = high_leverage_short_term().compare()
    assert table.loc["isolated", "worst_loss_usdt"] == 1_000.0
    assert table.loc["cross", "worst_loss_usdt"] > 3 * 1_000.0


def test_high_leverage_isolated_is_liquidated_more_often():
    # 50x isolated: LP 60,000·(1 − 1/50)/0.996 = 59,036.14, a 1.6 % move.
    scenario = high_leverage_short_term()
    lp = long_lp(1_000, 5 / 6)
    assert lp == pytest.approx(59_036.14, abs=0.005)
    table = scenario.compare()
    share = touched_below(scenario.prices["BTCUSDT"], lp).mean()
    assert table.loc["isolated", "liquidation_probability"] == share
    assert share > table.loc["cross", "liquidation_probability"] + 0.3


def test_several_positions_isolated_liquidation_costs_only_that_margin():
    scenario = several_independent_positions()
    result = scenario.simulate("isolated")
    for symbol, entry in (("BTCUSDT", 60_000.0), ("ETHUSDT", 3_000.0)):
        gone = result.liquidated(symbol)
        assert gone.any()
        assert (result.loss_usdt[symbol][gone] == 2_500.0).all()
        # independent: the same position alone in an account liquidates at the same steps
        alone = (
            Account(wallet_balance=10_000)
            .set_margin_mode(symbol, "isolated")
            .open(symbol, side="long", price=entry, leverage=10, margin=2_500)
        )
        alone_result = simulate_paths(alone, {symbol: scenario.prices[symbol]})
        np.testing.assert_array_equal(
            alone_result.liquidated_at[symbol], result.liquidated_at[symbol]
        )
    assert (result.loss_total_usdt <= 5_000.0 + EXACT).all()


def test_several_positions_in_cross_one_liquidation_takes_both_and_the_pool():
    result = several_independent_positions().simulate("cross")
    btc, eth = result.liquidated_at["BTCUSDT"], result.liquidated_at["ETHUSDT"]
    gone = btc >= 0
    assert gone.mean() > 0.2
    np.testing.assert_array_equal(btc, eth)  # always together, at the same step
    np.testing.assert_allclose(result.loss_total_usdt[gone], 10_000.0, rtol=0, atol=EXACT)


def test_several_positions_cross_also_carries_a_loser_isolated_would_liquidate():
    scenario = several_independent_positions()
    cross, isolated = scenario.simulate("cross"), scenario.simulate("isolated")
    carried = isolated.liquidated("BTCUSDT") & ~cross.liquidated()
    assert carried.mean() > 0.1


def test_strategy_test_isolated_caps_a_failed_test_at_its_margin():
    table = strategy_with_limited_capital().compare()
    assert table.loc["isolated", "worst_loss_usdt"] == 500.0
    assert table.loc["cross", "worst_loss_usdt"] > 2 * 500.0


def test_strategy_test_a_stop_loss_limits_cross_but_gaps_cost_more_than_the_stop():
    # Stop 3 % below entry: 58,200. The idealised fill at the stop loses 10,000 notional ×
    # 3 % = 300; filled where the market is (the default), gaps past the stop cost more:
    # the worst a little more than the 500 isolated margin (the scenario's caveat).
    scenario = strategy_with_limited_capital()
    ideal = scenario.compare(stops={"BTCUSDT": 58_200.0}, stop_fill="stop")
    assert ideal.loc["cross", "worst_loss_usdt"] == pytest.approx(300.0, abs=EXACT)
    table = scenario.compare(stops={"BTCUSDT": 58_200.0})
    worst = table.loc["cross", "worst_loss_usdt"]
    assert 500.0 < worst < 1.1 * 500.0
    assert f"the worst gap past it cost {worst:,.2f} USDT, more than the 500 USDT" in (
        scenario.caveat
    )
    # still far below what the same trade in cross loses without a stop
    assert worst < scenario.compare().loc["cross", "worst_loss_usdt"] / 5


@pytest.mark.parametrize("name", list(WHEN_TO_USE))
def test_when_to_use_model_names_its_kind_of_path_in_words(name):
    # One description of random paths (PathModel.describe), no unexplained "GBM".
    default = when_to_use(name, n_paths=20)
    assert default.model.startswith(("random walk", "Hand-drawn"))
    assert "GBM" not in default.model


def test_when_to_use_texts_follow_the_builders_inputs():
    assert "a 20x one-day trade's loss at its 1,000 USDT margin" in (
        high_leverage_short_term(leverage=20, n_paths=20).claim
    )
    # 20x isolated: (1 − 1/20)/0.996 → 4.62 % below entry
    assert "liquidated by a 4.62% move" in high_leverage_short_term(leverage=20, n_paths=20).caveat
    small = large_account_small_positions(wallet_balance=10_000, margin=5_000, n_paths=20)
    # 10,000 behind 50,000: (60,000 − 12,000)/0.996 = 48,192.77, 19.68 % below entry
    assert "With 10,000 USDT behind a 50,000 USDT position, cross liquidates 19.68% below" in (
        small.claim
    )
    assert "has no liquidation price at all" in large_account_small_positions(n_paths=20).claim
