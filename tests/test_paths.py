"""Price paths: seeded GBM (with jumps), correlated symbols, teaching paths, loading history."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from marginlab.engine import (
    TEACHING_PATHS,
    PathModel,
    correlated_gbm_paths,
    gbm_paths,
    load_prices,
    teaching_path,
)

HOURS_PER_YEAR = 8_760.0


# ------------------------------------------------------------------------------ GBM
def test_gbm_paths_shape_and_start_column_are_as_asked():
    prices = gbm_paths(60_000, 7, 11, seed=3)
    assert prices.shape == (7, 11)
    assert prices.dtype == np.float64
    assert (prices[:, 0] == 60_000.0).all()
    assert (prices > 0).all()


def test_gbm_paths_same_seed_is_bit_for_bit_reproducible():
    options = {"volatility": 0.9, "drift_rate": 0.2, "jump_intensity": 40.0, "seed": 12}
    first = gbm_paths(3_000, 50, 80, **options)
    second = gbm_paths(3_000, 50, 80, **options)
    assert first.tobytes() == second.tobytes()


def test_gbm_paths_other_seed_gives_other_paths():
    assert not np.array_equal(gbm_paths(100, 5, 20, seed=1), gbm_paths(100, 5, 20, seed=2))


def test_gbm_paths_log_returns_have_the_asked_volatility_and_drift():
    # volatility 0.8 a year on hourly steps: sd per step 0.8 × sqrt(1/8760) = 0.0085475;
    # mean per step (μ − σ²/2)·dt = (0.5 − 0.32) / 8760 = 2.0548e-5.
    prices = gbm_paths(100, 400, 501, volatility=0.8, drift_rate=0.5, seed=5)
    steps = np.diff(np.log(prices), axis=1)
    assert steps.std() == pytest.approx(0.8 * math.sqrt(1 / HOURS_PER_YEAR), rel=0.01)
    # standard error of the mean over 200,000 steps: 0.0085475 / sqrt(2e5) = 1.9e-5
    assert abs(steps.mean() - (0.5 - 0.32) / HOURS_PER_YEAR) < 4 * 1.9e-5


def test_gbm_paths_zero_volatility_zero_drift_stays_at_start():
    prices = gbm_paths(42.0, 3, 10, volatility=0.0, seed=0)
    assert (prices == 42.0).all()


def test_gbm_paths_jumps_alone_move_in_whole_jump_sizes_at_the_asked_rate():
    # No diffusion, jumps of exactly −0.1 in log: every step's log-return is −0.1 × count.
    # 8,760 jumps a year on hourly steps = 1 per step on average (Poisson mean 1).
    prices = gbm_paths(
        100.0, 200, 101, volatility=0.0, jump_intensity=8_760.0, jump_mean=-0.1, jump_std=0.0
    )
    counts = -np.diff(np.log(prices), axis=1) / 0.1
    assert np.abs(counts - np.round(counts)).max() < 1e-9
    # 20,000 cells with Poisson(1) counts: mean 1, standard error 1/sqrt(20,000) = 0.007
    assert abs(counts.mean() - 1.0) < 0.03
    assert abs(counts.var() - 1.0) < 0.05  # a Poisson count's variance equals its mean


def test_gbm_paths_one_step_is_just_the_start():
    assert gbm_paths(60_000, 4, 1, seed=9).tolist() == [[60_000.0]] * 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"n_paths": 0}, ValueError, "n_paths must be at least 1", id="no-paths"),
        pytest.param({"n_steps": 2.5}, TypeError, "n_steps must be a whole number", id="steps"),
        pytest.param({"start_price": 0}, ValueError, "start_price must be greater than 0", id="p0"),
        pytest.param({"volatility": -0.1}, ValueError, "volatility must be between 0", id="vol"),
        pytest.param({"seed": -1}, TypeError, "seed must be a whole number >= 0", id="seed"),
        pytest.param({"seed": 1.5}, TypeError, "seed must be a whole number", id="seed-float"),
        pytest.param(
            {"jump_intensity": -1}, ValueError, "jump_intensity must be between 0", id="jumps"
        ),
        pytest.param({"step_hours": 0}, ValueError, "step_hours must be greater than 0", id="dt"),
    ],
)
def test_gbm_paths_bad_input_names_the_parameter(kwargs, error, match):
    args = {"start_price": 60_000, "n_paths": 2, "n_steps": 3, **kwargs}
    with pytest.raises(error, match=match):
        gbm_paths(**args)


# ------------------------------------------------------------------------ correlated
def test_correlated_gbm_paths_returns_have_the_asked_correlation():
    prices = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000}, 200, 301, correlation=0.7, seed=4
    )
    btc = np.diff(np.log(prices["BTCUSDT"]), axis=1).ravel()
    eth = np.diff(np.log(prices["ETHUSDT"]), axis=1).ravel()
    # 60,000 pairs: the sample correlation's standard error is (1 − 0.49)/sqrt(6e4) = 0.002
    assert np.corrcoef(btc, eth)[0, 1] == pytest.approx(0.7, abs=0.01)
    assert prices["ETHUSDT"][:, 0].tolist() == [3_000.0] * 200


def test_correlated_gbm_paths_per_symbol_volatility_is_used():
    prices = correlated_gbm_paths(
        {"BTCUSDT": 1.0, "ETHUSDT": 1.0},
        100,
        401,
        correlation=0.0,
        volatility={"BTCUSDT": 0.4, "ETHUSDT": 1.2},
        seed=8,
    )
    btc_sd = np.diff(np.log(prices["BTCUSDT"]), axis=1).std()
    eth_sd = np.diff(np.log(prices["ETHUSDT"]), axis=1).std()
    assert eth_sd / btc_sd == pytest.approx(3.0, rel=0.02)


def test_correlated_gbm_paths_jumps_hit_every_symbol_at_the_same_step():
    prices = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000},
        20,
        50,
        volatility=0.0,
        jump_intensity=876.0,
        jump_mean=-0.2,
        jump_std=0.05,
        seed=3,
    )
    btc = np.diff(np.log(prices["BTCUSDT"]), axis=1)
    eth = np.diff(np.log(prices["ETHUSDT"]), axis=1)
    assert (btc != 0).any()
    assert np.allclose(btc, eth, rtol=0, atol=1e-12)


def test_correlated_gbm_paths_same_seed_is_reproducible():
    starts = {"BTCUSDT": 60_000, "ETHUSDT": 3_000}
    first = correlated_gbm_paths(starts, 10, 30, correlation=0.5, jump_intensity=50, seed=2)
    second = correlated_gbm_paths(starts, 10, 30, correlation=0.5, jump_intensity=50, seed=2)
    assert all(first[s].tobytes() == second[s].tobytes() for s in starts)


def test_correlated_gbm_paths_impossible_correlation_is_refused():
    starts = {"BTCUSDT": 1.0, "ETHUSDT": 1.0, "SOLUSDT": 1.0}
    with pytest.raises(ValueError, match=r"correlation must be above -0\.5 for 3 symbols"):
        correlated_gbm_paths(starts, 2, 3, correlation=-0.6)


def test_correlated_gbm_paths_volatility_mapping_missing_a_symbol_is_refused():
    with pytest.raises(ValueError, match="volatility: no value for ETHUSDT"):
        correlated_gbm_paths({"BTCUSDT": 1.0, "ETHUSDT": 1.0}, 2, 3, volatility={"BTCUSDT": 0.5})


# -------------------------------------------------------------------- teaching paths
@pytest.mark.parametrize("name", TEACHING_PATHS)
def test_teaching_path_starts_at_start_and_has_n_steps(name):
    path = teaching_path(name, start_price=60_000, n_steps=120)
    assert path.shape == (120,)
    assert path[0] == 60_000.0
    assert (path > 0).all()


@pytest.mark.parametrize("name", TEACHING_PATHS)
def test_teaching_path_short_is_the_mirror_of_long(name):
    long_path = teaching_path(name, start_price=100.0, n_steps=60)
    short_path = teaching_path(name, start_price=100.0, n_steps=60, against="short")
    assert np.allclose(short_path - 100.0, -(long_path - 100.0), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("name", "lowest", "last"),
    [
        # straight line 100 → 70
        pytest.param("steady_decline", 70.0, 70.0, id="steady_decline"),
        # down to 85 at the middle step (n_steps odd) and back to 100
        pytest.param("v_dip_recovery", 85.0, 100.0, id="v_dip_recovery"),
        # one step at 88, everything else at 100
        pytest.param("flash_crash_wick", 88.0, 100.0, id="flash_crash_wick"),
    ],
)
def test_teaching_path_reaches_its_depth(name, lowest, last):
    path = teaching_path(name, start_price=100.0, n_steps=101)
    assert path.min() == pytest.approx(lowest, abs=1e-9)
    assert path[-1] == pytest.approx(last, abs=1e-9)


def test_teaching_path_flash_crash_is_a_single_step_wick():
    path = teaching_path("flash_crash_wick", start_price=100.0, n_steps=41)
    assert np.flatnonzero(path != 100.0).tolist() == [20]


def test_teaching_path_whipsaw_swings_both_ways_and_returns():
    path = teaching_path("whipsaw", start_price=100.0, n_steps=301, depth_rate=0.05)
    assert path.min() == pytest.approx(95.0, abs=0.01)
    assert path.max() == pytest.approx(105.0, abs=0.01)
    assert path[-1] == pytest.approx(100.0, abs=1e-9)
    below = path < 99.0
    assert np.count_nonzero(np.diff(below.astype(int)) == 1) == 3  # three dips


def test_teaching_path_slow_grind_never_moves_in_favour_and_ends_at_depth():
    path = teaching_path("slow_grind", start_price=100.0, n_steps=200)
    assert path.max() == 100.0
    assert path[-1] == pytest.approx(88.0, abs=1e-9)
    assert (np.diff(path) > 0).any()  # it has relief rallies, unlike steady_decline


def test_teaching_path_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="name must be one of steady_decline, v_dip_recovery"):
        teaching_path("moon")


def test_teaching_path_depth_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"depth_rate must be between 0 and 0\.95"):
        teaching_path("steady_decline", depth_rate=1.0)


# --------------------------------------------------------------------------- loading
def _write(tmp_path, text: str):
    path = tmp_path / "btc.csv"
    path.write_text(text)
    return path


def test_load_prices_csv_with_close_returns_a_timestamp_index(tmp_path):
    path = _write(tmp_path, "timestamp,close\n2024-01-01 00:00,42000\n2024-01-01 01:00,42100.5\n")
    frame = load_prices(path)
    assert frame["close"].tolist() == [42_000.0, 42_100.5]
    assert frame.index.name == "timestamp"
    assert frame.index[1] == pd.Timestamp("2024-01-01 01:00")


def test_load_prices_ohlc_columns_any_case_come_back_in_order(tmp_path):
    text = "Timestamp, Close ,HIGH,low,Open\n1,10,11,9,10\n2,11,12,10,10.5\n"
    frame = load_prices(_write(tmp_path, text))
    assert list(frame.columns) == ["open", "high", "low", "close"]
    assert frame.index.tolist() == [1.0, 2.0]  # numeric timestamps stay numbers


def test_load_prices_dataframe_with_timestamp_index_round_trips():
    frame = pd.DataFrame(
        {"timestamp": pd.date_range("2024-01-01", periods=3, freq="h"), "close": [1.0, 2.0, 3.0]}
    )
    first = load_prices(frame)
    again = load_prices(first)
    assert again.equals(first)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        pytest.param("time,close\n1,2\n2,3\n", "missing column 'timestamp'", id="no-timestamp"),
        pytest.param("timestamp,price\n1,2\n2,3\n", "missing column 'close'", id="no-close"),
        pytest.param(
            "timestamp,close\n1,2\n2,abc\n",
            r"row 2 \(line 3 of btc.csv\): close is not a number: 'abc'",
            id="not-a-number",
        ),
        pytest.param(
            "timestamp,close\n1,2\n2,0\n3,4\n",
            r"row 2 \(line 3 of btc.csv\): close must be a finite price greater than 0",
            id="zero",
        ),
        pytest.param(
            "timestamp,close\n1,2\n2,-5\n",
            r"row 2 \(line 3 of btc.csv\): close must be a finite price greater than 0 USDT, "
            "got '-5'",
            id="negative",
        ),
        pytest.param(
            "timestamp,close\n1,2\n2,\n3,4\n",
            r"row 2 \(line 3 of btc.csv\): close is missing",
            id="empty-cell",
        ),
        pytest.param(
            "timestamp,close\n1,2\n2,NaN\n",
            r"row 2 \(line 3 of btc.csv\): close is missing",
            id="nan",
        ),
        pytest.param(
            "timestamp,close\n1,2\n3,2\n2,2\n",
            r"timestamp must increase from row to row: row 3 \(line 4 of btc.csv\) \(2.0\) "
            r"comes before row 2",
            id="unsorted",
        ),
        pytest.param(
            "timestamp,close\n1,2\n2,2\n2,3\n",
            r"timestamp 2.0 is repeated: row 2 \(line 3 of btc.csv\) and row 3",
            id="duplicate",
        ),
        pytest.param(
            "timestamp,close\n2024-01-01,2\nyesterday,3\n",
            r"row 2 \(line 3 of btc.csv\): timestamp 'yesterday' is not a date/time",
            id="bad-date",
        ),
        pytest.param("timestamp,close\n1,2\n", "too few rows: need at least 2, got 1", id="short"),
        pytest.param(
            "timestamp,open,high,low,close\n1,10,11,9,10\n2,10,10,9,10.5\n",
            r"row 2 \(line 3 of btc.csv\): high 10 is below close 10.5",
            id="high-below-close",
        ),
        pytest.param(
            "timestamp,low,close\n1,9,10\n2,11,10.5\n",
            r"row 2 \(line 3 of btc.csv\): low 11 is above close 10.5",
            id="low-above-close",
        ),
    ],
)
def test_load_prices_bad_file_says_what_and_where(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        load_prices(_write(tmp_path, text))


def test_load_prices_dataframe_errors_name_the_row_without_a_line():
    frame = pd.DataFrame({"timestamp": [1, 2, 3], "close": [1.0, float("nan"), 2.0]})
    with pytest.raises(ValueError, match=r"^row 2: close is missing"):
        load_prices(frame)


def test_load_prices_min_rows_is_configurable():
    frame = pd.DataFrame({"timestamp": [1, 2, 3], "close": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="too few rows: need at least 5, got 3"):
        load_prices(frame, min_rows=5)


def test_load_prices_missing_file_names_the_path(tmp_path):
    with pytest.raises(ValueError, match="source: no such file"):
        load_prices(tmp_path / "nothing.csv")


def test_load_prices_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="source must be a CSV file path or a pandas DataFrame"):
        load_prices([1, 2, 3])


# ------------------------------------------------------------------- last-price wick
def test_teaching_path_last_price_wick_only_the_last_price_wicks():
    marks = teaching_path("last_price_wick", start_price=100.0, n_steps=101)
    lasts = teaching_path("last_price_wick", start_price=100.0, n_steps=101, price="last")
    # The mark dips a quarter of the 8 % wick, at the middle step; the last touches -8 %.
    assert marks.min() == pytest.approx(98.0, abs=1e-9)
    assert lasts.min() == pytest.approx(92.0, abs=1e-9)
    assert np.flatnonzero(marks != lasts).tolist() == [50]


@pytest.mark.parametrize("name", [n for n in TEACHING_PATHS if n != "last_price_wick"])
def test_teaching_path_last_price_is_the_mark_for_other_paths(name):
    assert np.array_equal(
        teaching_path(name, n_steps=50), teaching_path(name, n_steps=50, price="last")
    )


def test_teaching_path_unknown_price_is_refused():
    with pytest.raises(ValueError, match="price must be 'mark' or 'last', got 'index'"):
        teaching_path("whipsaw", price="index")


# ------------------------------------------------------------------------ PathModel
def test_path_model_draws_exactly_gbm_paths():
    model = PathModel(n_paths=5, n_steps=30, volatility=0.7, jump_intensity=20.0, seed=4)
    expected = gbm_paths(60_000, 5, 30, volatility=0.7, jump_intensity=20.0, seed=4)
    assert model.paths(60_000).tobytes() == expected.tobytes()


def test_path_model_joint_paths_are_correlated_gbm_paths():
    model = PathModel(n_paths=4, n_steps=10, correlation=0.5, seed=2)
    starts = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0}
    expected = correlated_gbm_paths(starts, 4, 10, correlation=0.5, seed=2)
    got = model.joint_paths(starts)
    assert all(got[s].tobytes() == expected[s].tobytes() for s in starts)
    with pytest.raises(ValueError, match="use joint_paths"):
        model.paths(60_000)


def test_path_model_fair_drift_offsets_the_crashes():
    # E[e^J] = exp(-0.08 + 0.04²/2) = 0.923855; drift = 6 × (1 − 0.923855) = 0.45687.
    model = PathModel.fair(n_paths=1, n_steps=2, jump_intensity=6.0, jump_mean=-0.08, jump_std=0.04)
    assert model.drift_rate == pytest.approx(0.45687, abs=1e-5)
    assert abs(model.mean_growth_rate) < 1e-15
    assert "drift 46% a year that offsets the crashes" in model.describe()


def test_path_model_mean_return_of_crashes_without_drift_is_negative_and_said():
    # 200 hourly prices: T = 199/8,760; growth 6 × (0.923855 − 1) = −0.45687 a year.
    model = PathModel(n_paths=10, n_steps=200, jump_intensity=6.0, jump_mean=-0.08, jump_std=0.04)
    assert model.mean_return == pytest.approx(math.expm1(-0.45687 * 199 / HOURS_PER_YEAR), rel=1e-4)
    text = model.describe()
    assert "crashes 6 a year, each about -7.7%" in text
    assert "no drift: the mean price falls 1.0% by the end" in text


def test_path_model_driftless_says_so():
    text = PathModel(n_paths=400, n_steps=336, volatility=0.8, seed=3).describe()
    assert text == (
        "random walk (geometric Brownian motion): 400 paths of 336 hourly prices (about 14 "
        "days), seed 3; volatility 80% a year; no jumps; no drift: the mean price stays where "
        "it started."
    )


def test_path_model_with_jumps_is_named_for_its_crashes_not_plain_gbm():
    model = PathModel(n_paths=10, n_steps=20, jump_intensity=6.0, jump_mean=-0.08)
    assert model.describe().startswith(
        "random walk with crash jumps (geometric Brownian motion plus jumps): 10 paths"
    )
    assert PathModel.fair(n_paths=10, n_steps=20).name == "random walk (geometric Brownian motion)"


def test_path_model_bad_settings_are_refused_when_built():
    with pytest.raises(ValueError, match="volatility must be between 0 and 10"):
        PathModel(n_paths=1, n_steps=2, volatility=-1.0)
    with pytest.raises(ValueError, match="n_paths must be at least 1"):
        PathModel(n_paths=0, n_steps=2)
