"""simulate_stop_levels: a whole grid of stops at once, equal to simulate_paths per stop.

Every stop of the grid is checked against an independent ``simulate_paths`` run with that
one stop, path by path and field by field (exact equality: the same arithmetic), and its
timelines against ``replay``. Hand-worked, on the guide's isolated long (LP 54,216.87):
a gap from 60,000 to 52,800 passes a 57,000 stop first and fills at 52,800 (docs §10).
"""

from __future__ import annotations

import numpy as np
import pytest

from marginlab.engine import (
    Account,
    MarginError,
    gbm_paths,
    replay,
    simulate_paths,
    simulate_stop_levels,
    teaching_path,
)
from marginlab.scenarios import guide_account

PRICES = gbm_paths(60_000.0, 300, 120, volatility=1.2, jump_intensity=40.0, seed=5)
LONG_STOPS = np.arange(40_000.0, 59_901.0, 700.0)
SHORT_STOPS = np.arange(60_100.0, 80_001.0, 700.0)
FIELDS = ("final_wallet_usdt", "final_equity_usdt", "fees_usdt")
PER_KEY = ("liquidated_at", "stopped_at", "exit_price", "loss_usdt")


def account(mode: str, side: str = "long", fee_rate: float = 0.0) -> Account:
    base = Account(wallet_balance=10_000, fee_rate=fee_rate, liquidation_fee_rate=0.004)
    return base.set_margin_mode("BTCUSDT", mode).open(
        "BTCUSDT", side=side, price=60_000, leverage=10, notional=20_000
    )


def assert_same(got, want) -> None:
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field), err_msg=field)
    for field in PER_KEY:
        np.testing.assert_array_equal(
            getattr(got, field)["BTCUSDT"], getattr(want, field)["BTCUSDT"], err_msg=field
        )


@pytest.mark.parametrize("mode", ["cross", "isolated"])
@pytest.mark.parametrize("side", ["long", "short"])
@pytest.mark.parametrize("fill", ["market", "stop"])
def test_stop_levels_each_stop_equals_simulate_paths(mode, side, fill):
    acct = account(mode, side, fee_rate=0.0005)
    stops = LONG_STOPS if side == "long" else SHORT_STOPS
    grid = simulate_stop_levels(
        acct, {"BTCUSDT": PRICES}, stops, stop_fill=fill, slippage_rate=0.001
    )
    for stop in stops[::4]:
        want = simulate_paths(
            acct,
            {"BTCUSDT": PRICES},
            stops={"BTCUSDT": stop},
            stop_fill=fill,
            slippage_rate=0.001,
        )
        assert_same(grid.result(stop), want)
    assert_same(grid.result(None), simulate_paths(acct, {"BTCUSDT": PRICES}))
    assert grid.fires.any() and (~grid.fires).any()


@pytest.mark.parametrize("trigger", ["last", "mark"])
def test_stop_levels_last_price_wicks_follow_the_trigger(trigger):
    marks = PRICES
    lasts = PRICES * np.where(np.arange(PRICES.shape[1]) % 17 == 5, 0.94, 1.0)  # wicks
    acct = account("isolated")
    grid = simulate_stop_levels(
        acct, {"BTCUSDT": marks}, LONG_STOPS, last_prices={"BTCUSDT": lasts}, stop_trigger=trigger
    )
    for stop in LONG_STOPS[::5]:
        want = simulate_paths(
            acct,
            {"BTCUSDT": marks},
            last_prices={"BTCUSDT": lasts},
            stops={"BTCUSDT": stop},
            stop_trigger=trigger,
        )
        assert_same(grid.result(stop), want)


@pytest.mark.parametrize("mode", ["cross", "isolated"])
@pytest.mark.parametrize("path", ["steady_decline", "v_dip_recovery", "last_price_wick"])
def test_stop_levels_timeline_equals_replay(mode, path):
    marks = teaching_path(path, start_price=60_000, n_steps=150)
    lasts = teaching_path(path, start_price=60_000, n_steps=150, price="last")
    acct = account(mode)
    grid = simulate_stop_levels(
        acct, {"BTCUSDT": marks[None]}, LONG_STOPS, last_prices={"BTCUSDT": lasts[None]}
    )
    for stop in (None, *LONG_STOPS[[0, 20, 24, -1]]):  # 40,000, 54,000, 56,800, 59,600
        stops = None if stop is None else {"BTCUSDT": stop}
        want = replay(acct, {"BTCUSDT": marks}, last_prices={"BTCUSDT": lasts}, stops=stops)
        got = grid.timeline(stop)
        np.testing.assert_array_equal(got["equity_usdt"], want.timeline["equity_usdt"])
        np.testing.assert_array_equal(
            got["margin_ratio"], want.timeline["BTCUSDT.margin_ratio"].to_numpy()
        )


def test_stop_levels_gap_through_stop_and_liquidation_fills_at_the_gap():
    # 60,000 -> 52,800 in one step: a 57,000 stop is passed first and fills at 52,800,
    # a loss of 2,400 capped at the 2,000 margin; a 53,000 stop (below the LP) never fires.
    paths = np.array([[60_000.0, 52_800.0]])
    grid = simulate_stop_levels(guide_account("isolated"), {"BTCUSDT": paths}, [57_000.0, 53_000.0])
    fired = grid.result(57_000.0)
    assert fired.stopped_at["BTCUSDT"].tolist() == [1]
    assert fired.exit_price["BTCUSDT"].tolist() == [52_800.0]
    assert fired.final_wallet_usdt.tolist() == [8_000.0]
    never = grid.result(53_000.0)
    assert never.stopped_at["BTCUSDT"].tolist() == [-1]
    assert never.liquidated_at["BTCUSDT"].tolist() == [1]


def test_stop_levels_wick_fires_a_last_price_stop_the_mark_never_reaches():
    marks = teaching_path("last_price_wick", start_price=60_000, n_steps=101)
    lasts = teaching_path("last_price_wick", start_price=60_000, n_steps=101, price="last")
    assert marks.min() > 57_000 > lasts.min()  # the mark dips 2 %, the last 8 %
    for trigger, fires in (("last", True), ("mark", False)):
        grid = simulate_stop_levels(
            guide_account("isolated"),
            {"BTCUSDT": marks[None]},
            [57_000.0],
            last_prices={"BTCUSDT": lasts[None]},
            stop_trigger=trigger,
        )
        result = grid.result(57_000.0)
        assert bool(result.stopped("BTCUSDT")[0]) is fires
        assert not result.liquidated("BTCUSDT")[0]
    # Filled at the wick's last price, 55,200: a loss of 1/3 × 4,800 = 1,600.
    assert result.final_equity_usdt[0] == 10_000.0  # the mark-watching stop never fired
    fired = simulate_stop_levels(
        guide_account("isolated"),
        {"BTCUSDT": marks[None]},
        [57_000.0],
        last_prices={"BTCUSDT": lasts[None]},
    ).result(57_000.0)
    assert fired.final_equity_usdt[0] == pytest.approx(8_400.0, abs=1e-9)


@pytest.mark.parametrize(
    ("stops", "error", "message"),
    [
        ([61_000.0], MarginError, "stop_prices must be below the entry price 60,000.00"),
        ([float("nan")], MarginError, "stop_prices must be finite prices"),
        ([], MarginError, "stop_prices must be a non-empty 1-D array"),
        ("low", TypeError, "stop_prices must be an array of prices"),
    ],
    ids=["wrong-side", "nan", "empty", "text"],
)
def test_stop_levels_bad_stops_are_refused(stops, error, message):
    with pytest.raises(error, match=message):
        simulate_stop_levels(guide_account("isolated"), {"BTCUSDT": PRICES}, stops)


def test_stop_levels_two_positions_are_refused():
    two = guide_account("cross").open("ETHUSDT", side="long", price=3_000, leverage=10, margin=500)
    with pytest.raises(MarginError, match="exactly one position"):
        simulate_stop_levels(two, {"BTCUSDT": PRICES, "ETHUSDT": PRICES / 20}, [50_000.0])


def test_stop_levels_result_of_a_stop_off_the_grid_is_refused():
    grid = simulate_stop_levels(guide_account("isolated"), {"BTCUSDT": PRICES}, LONG_STOPS)
    with pytest.raises(MarginError, match="is not one of the 29 stop levels simulated"):
        grid.result(57_123.0)
