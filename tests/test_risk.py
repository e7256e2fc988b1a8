"""Risk summaries over a grid of leverage: cross, isolated and isolated with a stop-loss."""

from __future__ import annotations

import numpy as np
import pytest

from marginlab.engine import gbm_paths, risk_outcomes, risk_summary, simulate_paths, summarize
from marginlab.engine.risk import SUMMARY_COLUMNS
from marginlab.scenarios import guide_account

EXACT = 1e-9  # USDT
MMR = 0.004  # bracket 1 of BTCUSDT: every notional here (<= 2,000 × 50) is below 300,000

PATHS = gbm_paths(60_000, 300, 300, volatility=1.2, jump_intensity=20.0, seed=21)
LEVERAGES = [5, 10, 20, 50]


def isolated_lp(leverage: float) -> float:
    """Isolated long, margin = notional / L: LP = EP·(1 − 1/L)/(1 − MMR) (docs/formulas.md §2.3)."""
    return 60_000 * (1 - 1 / leverage) / (1 - MMR)


def cross_lp(leverage: float) -> float:
    """Cross long with the whole 10,000 behind Q = 2,000·L/60,000: (EP − W/Q)/(1 − MMR)."""
    quantity = 2_000 * leverage / 60_000
    return (60_000 - 10_000 / quantity) / (1 - MMR)


def share_touching(price: float) -> float:
    return float((PATHS.min(axis=1) <= price).mean())


@pytest.fixture(scope="module")
def table():
    return risk_summary(PATHS, LEVERAGES)


def test_risk_summary_has_a_row_per_leverage_and_mode(table):
    assert table.index.names == ["leverage", "mode"]
    assert len(table) == len(LEVERAGES) * 3
    assert set(table.index.get_level_values("mode")) == {"cross", "isolated", "isolated_stop"}
    for column in (*SUMMARY_COLUMNS, "liquidation_price", "stop_price"):
        assert column in table.columns


@pytest.mark.parametrize("leverage", LEVERAGES)
def test_risk_summary_isolated_probability_is_the_share_of_paths_reaching_its_lp(table, leverage):
    row = table.loc[(float(leverage), "isolated")]
    assert row["liquidation_price"] == pytest.approx(isolated_lp(leverage), abs=0.005)
    assert row["liquidation_probability"] == share_touching(isolated_lp(leverage))
    assert row["mean_loss_if_liquidated_usdt"] == 2_000.0  # exactly the margin
    assert row["worst_loss_usdt"] == 2_000.0


@pytest.mark.parametrize("leverage", [10, 20, 50])
def test_risk_summary_cross_probability_is_the_share_of_paths_reaching_its_lp(table, leverage):
    row = table.loc[(float(leverage), "cross")]
    lp = cross_lp(leverage)  # 10x: 30,120.48; 20x: 45,180.72; 50x: 54,216.87
    assert row["liquidation_price"] == pytest.approx(lp, abs=0.005)
    assert row["liquidation_probability"] == share_touching(lp)
    if row["liquidation_probability"] > 0:
        assert row["mean_loss_if_liquidated_usdt"] == pytest.approx(10_000.0, abs=EXACT)


def test_risk_summary_cross_at_5x_cannot_be_liquidated(table):
    # Q = 1/6 BTC: 60,000 − 10,000·6 = 0, so no positive price liquidates it.
    row = table.loc[(5.0, "cross")]
    assert np.isnan(row["liquidation_price"])
    assert row["liquidation_probability"] == 0.0
    assert np.isnan(row["mean_loss_if_liquidated_usdt"])


@pytest.mark.parametrize("leverage", LEVERAGES)
def test_risk_summary_cross_is_harder_to_liquidate_but_loses_more_when_it_is(table, leverage):
    cross = table.loc[(float(leverage), "cross")]
    isolated = table.loc[(float(leverage), "isolated")]
    assert cross["liquidation_probability"] <= isolated["liquidation_probability"]
    assert cross["worst_loss_usdt"] > isolated["worst_loss_usdt"]


def test_risk_summary_stop_loses_from_where_the_market_is(table):
    # 10x: stop 5 % below 60,000 = 57,000, above the LP 54,216.87, so the falling price
    # always meets it first. A stopped path fills at the worse of 57,000 and the step's
    # price and loses (60,000 − fill)/3: 1,000 at the stop, more through a gap, never
    # more than the 2,000 margin. The idealised fill loses exactly 1,000.
    row = table.loc[(10.0, "isolated_stop")]
    assert row["stop_price"] == 57_000.0
    result = simulate_paths(
        guide_account("isolated"), {"BTCUSDT": PATHS}, stops={"BTCUSDT": 57_000}
    )
    losses = 10_000 - result.final_equity_usdt
    stopped = result.stopped()
    assert stopped.mean() == row["stop_probability"] > 0.5
    rows = np.flatnonzero(stopped)
    fills = np.minimum(PATHS[rows, result.stopped_at["BTCUSDT"][rows]], 57_000.0)
    expected = np.minimum((60_000.0 - fills) / 3, 2_000.0)
    np.testing.assert_allclose(losses[stopped], expected, rtol=0, atol=EXACT)
    assert (expected > 1_000.0).all()  # hourly paths step past the stop
    assert row["worst_loss_usdt"] <= 2_000.0
    assert row["liquidation_probability"] == 0.0
    ideal = simulate_paths(
        guide_account("isolated"), {"BTCUSDT": PATHS}, stops={"BTCUSDT": 57_000}, stop_fill="stop"
    )
    np.testing.assert_allclose(
        10_000 - ideal.final_equity_usdt[stopped], 1_000.0, rtol=0, atol=EXACT
    )


def test_risk_summary_stop_beyond_the_lp_never_fires(table):
    # 50x: LP 59,036.14 is closer than a 5 % stop (57,000): the stop is never reached first.
    row = table.loc[(50.0, "isolated_stop")]
    assert row["stop_probability"] == 0.0
    assert (
        row["liquidation_probability"] == table.loc[(50.0, "isolated"), "liquidation_probability"]
    )


def test_risk_summary_final_equity_percentiles_match_the_outcomes(table):
    outcomes = risk_outcomes(PATHS, [10])
    cross = outcomes[outcomes["mode"] == "cross"]["final_equity_usdt"].to_numpy()
    row = table.loc[(10.0, "cross")]
    assert row["final_equity_p05_usdt"] == np.percentile(cross, 5)
    assert row["final_equity_p50_usdt"] == np.percentile(cross, 50)
    assert row["final_equity_p95_usdt"] == np.percentile(cross, 95)
    assert row["final_equity_mean_usdt"] == pytest.approx(cross.mean(), abs=EXACT)
    assert row["mean_loss_usdt"] == pytest.approx(10_000 - cross.mean(), abs=EXACT)


def test_risk_outcomes_long_form_has_a_row_per_path_and_combination():
    outcomes = risk_outcomes(PATHS[:20], [10, 20], modes=["cross", "isolated"])
    assert len(outcomes) == 20 * 2 * 2
    assert list(outcomes.columns) == [
        "leverage",
        "mode",
        "path",
        "final_equity_usdt",
        "loss_usdt",
        "liquidated",
        "stopped",
    ]
    np.testing.assert_allclose(
        outcomes["loss_usdt"], 10_000 - outcomes["final_equity_usdt"], rtol=0, atol=EXACT
    )


def test_risk_summary_loss_includes_the_opening_fee():
    # Flat prices: the only cost is the 0.05 % taker fee on opening 20,000 notional = 10.
    flat = np.full((3, 5), 60_000.0)
    table = risk_summary(flat, [10], modes=["isolated"], fee_rate=0.0005)
    assert table.loc[(10.0, "isolated"), "mean_loss_usdt"] == pytest.approx(10.0, abs=EXACT)


def test_risk_summary_short_side_mirrors():
    # A short's stop sits 5 % above entry: 63,000.
    table = risk_summary(PATHS[:50], [10], side="short", modes=["isolated_stop"])
    assert table.loc[(10.0, "isolated_stop"), "stop_price"] == 63_000.0
    # isolated short LP: 60,000·(1 + 1/10)/(1 + MMR) = 65,737.05
    assert table.loc[(10.0, "isolated_stop"), "liquidation_price"] == pytest.approx(
        65_737.05, abs=0.005
    )


def test_summarize_defaults_to_the_start_equity():
    path_set = np.array([[60_000.0, 54_000.0], [60_000.0, 63_000.0], [60_000.0, 66_000.0]])
    figures = summarize(simulate_paths(guide_account("isolated"), {"BTCUSDT": path_set}))
    # losses: 2,000 (liquidated), −1,000, −2,000 → mean −333.33
    assert figures["liquidation_probability"] == pytest.approx(1 / 3)
    assert figures["mean_loss_usdt"] == pytest.approx(-1_000 / 3, abs=EXACT)
    assert figures["worst_loss_usdt"] == 2_000.0
    assert figures["mean_loss_if_liquidated_usdt"] == 2_000.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"modes": ["both"]}, ValueError, "modes: each must be one of", id="mode"),
        pytest.param({"modes": "cross"}, TypeError, "modes must be a non-empty list", id="str"),
        pytest.param(
            {"leverages": [200]}, ValueError, "leverage must be between 1 and 150", id="too-high"
        ),
        pytest.param(
            {"leverages": [110], "margin": 3_000},
            ValueError,
            "leverage must be at most 100x for a BTCUSDT notional of 330,000.00",
            id="bracket",
        ),
        pytest.param(
            {"stop_loss_rate": 0}, ValueError, "stop_loss_rate must be between", id="stop"
        ),
        pytest.param({"prices": np.ones(4)}, ValueError, r"shape \(n_paths, n_steps\)", id="1-d"),
    ],
)
def test_risk_summary_bad_input_says_what_is_wrong(kwargs, error, match):
    args = {"prices": PATHS[:5], "leverages": [10], **kwargs}
    with pytest.raises(error, match=match):
        risk_summary(**args)
