"""replay: one account along one path, step by step, with the Account's own rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from marginlab.engine import Account, replay, teaching_path
from marginlab.scenarios import losing_neighbour_account

CENT = 0.005  # USDT: prices and amounts below are checked to the cent
EXACT = 1e-9  # USDT: sums of event amounts against wallet changes

CASH_KINDS = {"fee", "funding", "liquidation_fee", "insurance_fund"}


def guide(mode: str, side: str = "long", **account_options) -> Account:
    """The guide's trade (2,000 USDT at 10x from 60,000, 10,000 account) on either side."""
    account = Account(wallet_balance=10_000, **account_options).set_margin_mode("BTCUSDT", mode)
    return account.open("BTCUSDT", side=side, price=60_000, leverage=10, margin=2_000)


def decline(depth_rate: float, against: str = "long") -> np.ndarray:
    """60,000 moving linearly against the position by depth_rate over 100 steps (101 marks)."""
    return teaching_path(
        "steady_decline", start_price=60_000, n_steps=101, depth_rate=depth_rate, against=against
    )


def amounts(result, step: int, kinds=None) -> float:
    return sum(
        e.amount_usdt
        for e in result.events
        if e.step == step and (kinds is None or e.kind in kinds)
    )


# ---------------------------------------------------------------- liquidation step
@pytest.mark.parametrize(
    ("mode", "side", "depth", "expected_step"),
    [
        # isolated long: LP 54,216.87; mark 60,000 − 180·k first <= LP at k = 33 (54,060)
        pytest.param("isolated", "long", 0.3, 33, id="isolated-long-10x"),
        # cross long: LP 30,120.48; mark 60,000 − 360·k first <= LP at k = 83 (30,120)
        pytest.param("cross", "long", 0.6, 83, id="cross-long-10x"),
        # isolated short: LP 65,737.05; mark 60,000 + 180·k first >= LP at k = 32 (65,760)
        pytest.param("isolated", "short", 0.3, 32, id="isolated-short-10x"),
        # cross short: LP 89,641.43; mark 60,000 + 360·k first >= LP at k = 83 (89,880)
        pytest.param("cross", "short", 0.6, 83, id="cross-short-10x"),
    ],
)
def test_replay_single_position_liquidates_where_mark_crosses_closed_form(
    mode, side, depth, expected_step
):
    account = guide(mode, side)
    path = decline(depth, against=side)
    lp = account.liquidation_price("BTCUSDT")
    crossed = path <= lp if side == "long" else path >= lp
    result = replay(account, {"BTCUSDT": path})
    assert int(np.argmax(crossed)) == expected_step
    assert result.liquidated_at == {"BTCUSDT": expected_step}


def test_replay_isolated_liquidation_events_add_up_to_the_margin():
    # At step 33 the mark is 54,060: PnL (54,060 − 60,000)/3 = −1,980 realized; the 20 left
    # of the 2,000 margin goes to the insurance fund. The wallet keeps 8,000.
    result = replay(guide("isolated"), {"BTCUSDT": decline(0.3)})
    kinds = [(e.step, e.kind) for e in result.events]
    assert kinds == [(33, "liquidation"), (33, "insurance_fund")]
    assert result.events[0].amount_usdt == pytest.approx(-1_980.0, abs=CENT)
    assert result.events[1].amount_usdt == pytest.approx(-20.0, abs=CENT)
    assert result.timeline["wallet_usdt"].iloc[-1] == pytest.approx(8_000.0, abs=EXACT)
    assert result.final_equity_usdt == pytest.approx(8_000.0, abs=EXACT)


def test_replay_liquidation_fee_comes_out_of_what_is_left():
    # Notional at the 54,060 mark: 18,020; fee 0.05 % = 9.01; the rest 20 − 9.01 = 10.99.
    result = replay(guide("isolated", liquidation_fee_rate=0.0005), {"BTCUSDT": decline(0.3)})
    by_kind = {e.kind: e.amount_usdt for e in result.events}
    assert by_kind["liquidation_fee"] == pytest.approx(-9.01, abs=CENT)
    assert by_kind["insurance_fund"] == pytest.approx(-10.99, abs=CENT)
    assert result.timeline["wallet_usdt"].iloc[-1] == pytest.approx(8_000.0, abs=EXACT)


def test_replay_cross_liquidation_takes_the_whole_cross_wallet():
    # Step 83, mark 30,120: PnL −9,960; the remaining 40 goes to the insurance fund; 0 left.
    result = replay(guide("cross"), {"BTCUSDT": decline(0.6)})
    assert amounts(result, 83) == pytest.approx(-10_000.0, abs=EXACT)
    assert result.timeline["wallet_usdt"].iloc[-1] == 0.0


def test_replay_isolated_liquidation_keeps_everything_but_its_margin():
    # BTC isolated (2,000) liquidates at step 33; an ETH cross long (10 ETH at 3,000, 10x)
    # on a flat path is untouched: wallet 10,000 − 2,000 = 8,000, cross wallet stays 8,000.
    account = (
        Account(wallet_balance=10_000)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
        .open("ETHUSDT", side="long", price=3_000, leverage=10, quantity=10)
    )
    prices = {"BTCUSDT": decline(0.3), "ETHUSDT": np.full(101, 3_000.0)}
    result = replay(account, prices)
    last = result.timeline.iloc[-1]
    assert result.liquidated_at == {"BTCUSDT": 33, "ETHUSDT": -1}
    assert last["wallet_usdt"] == pytest.approx(8_000.0, abs=EXACT)
    assert last["cross_wallet_usdt"] == pytest.approx(8_000.0, abs=EXACT)
    assert result.timeline["cross_wallet_usdt"].iloc[0] == pytest.approx(8_000.0, abs=EXACT)
    assert bool(last["ETHUSDT.open"])


def test_replay_cross_liquidation_leaves_isolated_positions_untouched():
    # ETH isolated (10 ETH at 3,000, 10x: margin 3,000); BTC cross with the rest: cross
    # wallet 7,000, LP (60,000 − 7,000·3)/0.996 = 39,156.63; mark 60,000 − 300·k first
    # below at k = 70. After it the wallet is exactly the ETH margin, 3,000.
    account = (
        Account(wallet_balance=10_000)
        .set_margin_mode("ETHUSDT", "isolated")
        .open("ETHUSDT", side="long", price=3_000, leverage=10, quantity=10)
        .open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    )
    assert account.liquidation_price("BTCUSDT") == pytest.approx(39_156.63, abs=CENT)
    prices = {"BTCUSDT": decline(0.5), "ETHUSDT": np.full(101, 3_000.0)}
    result = replay(account, prices)
    timeline = result.timeline
    assert result.liquidated_at == {"ETHUSDT": -1, "BTCUSDT": 70}
    assert timeline["wallet_usdt"].iloc[-1] == pytest.approx(3_000.0, abs=EXACT)
    assert timeline["cross_wallet_usdt"].iloc[-1] == pytest.approx(0.0, abs=EXACT)
    assert result.final.position("ETHUSDT").isolated_margin == 3_000.0
    # ETH's liquidation price, 3,000·(1 − 0.1)/(1 − 0.004) = 2,710.84, never moved
    assert timeline["ETHUSDT.liquidation_price"].round(2).unique().tolist() == [2_710.84]


# ----------------------------------------------------------- timeline and neighbours
def test_replay_cross_liquidation_price_moves_with_the_neighbour():
    # BTC flat at 60,000 while the ETH neighbour falls 3,000 → 2,100. At the start the
    # other MM is 120: LP (60,000 − (10,000 − 120)·3)/0.996 = 30,481.93; at 2,100 the
    # neighbour is down 9,000 with MM 84: LP 57,481.93 (docs/formulas.md §12.2).
    prices = {"BTCUSDT": np.full(31, 60_000.0), "ETHUSDT": np.linspace(3_000.0, 2_100.0, 31)}
    result = replay(losing_neighbour_account("cross"), prices)
    lp = result.timeline["BTCUSDT.liquidation_price"]
    assert lp.iloc[0] == pytest.approx(30_481.93, abs=CENT)
    assert lp.iloc[-1] == pytest.approx(57_481.93, abs=CENT)
    assert lp.is_monotonic_increasing
    assert result.liquidated_at == {"ETHUSDT": -1, "BTCUSDT": -1}


def test_replay_timeline_has_a_row_per_step_and_the_documented_columns():
    result = replay(guide("isolated"), {"BTCUSDT": decline(0.1)})
    timeline = result.timeline
    assert len(timeline) == 101
    assert timeline.index.name == "step"
    for column in (
        "wallet_usdt",
        "cross_wallet_usdt",
        "unrealized_pnl_usdt",
        "equity_usdt",
        "cross_margin_ratio",
        "BTCUSDT.mark_price",
        "BTCUSDT.open",
        "BTCUSDT.unrealized_pnl_usdt",
        "BTCUSDT.margin_ratio",
        "BTCUSDT.liquidation_price",
    ):
        assert column in timeline.columns
    # marks 60,000 − 60·k reach the LP 54,216.87 at k = 97 (54,180); closed from then on
    assert result.liquidated_at == {"BTCUSDT": 97}
    assert timeline["BTCUSDT.open"].tolist() == [True] * 97 + [False] * 4
    assert np.isnan(timeline["BTCUSDT.liquidation_price"].iloc[97:]).all()
    assert timeline["BTCUSDT.liquidation_price"].iloc[96] == pytest.approx(54_216.87, abs=CENT)


def test_replay_series_with_a_timestamp_index_keeps_the_timestamps():
    stamps = pd.date_range("2024-01-01", periods=5, freq="h")
    path = pd.Series([60_000.0, 59_000, 58_000, 59_500, 61_000], index=stamps)
    result = replay(guide("isolated"), {"BTCUSDT": path})
    assert result.timeline["timestamp"].tolist() == list(stamps)
    # equity at the last mark: 10,000 + (61,000 − 60,000)/3 = 10,333.33
    assert result.final_equity_usdt == pytest.approx(10_333.33, abs=CENT)


# ------------------------------------------------------------------- fees, funding
def test_replay_funding_moves_the_isolated_liquidation_price():
    # Flat at 60,000, funding 0.1 % every 10 steps: the long pays 20,000 × 0.001 = 20 from
    # its margin: 2,000 → 1,980 and LP (60,000 − 1,980·3)/0.996 = 54,277.11 at step 10.
    result = replay(
        guide("isolated"),
        {"BTCUSDT": np.full(25, 60_000.0)},
        funding_rate=0.001,
        funding_interval_steps=10,
    )
    lp = result.timeline["BTCUSDT.liquidation_price"]
    assert lp.iloc[9] == pytest.approx(54_216.87, abs=CENT)
    assert lp.iloc[10] == pytest.approx(54_277.11, abs=CENT)
    assert [(e.step, e.kind, round(e.amount_usdt, 2)) for e in result.events] == [
        (10, "funding", -20.0),
        (20, "funding", -20.0),
    ]
    assert result.timeline["wallet_usdt"].iloc[-1] == pytest.approx(9_960.0, abs=EXACT)


def test_replay_negative_funding_pays_the_long():
    result = replay(
        guide("cross"),
        {"BTCUSDT": np.full(9, 60_000.0)},
        funding_rate=-0.0005,
        funding_interval_steps=4,
    )
    # 20,000 × 0.0005 = 10 received at steps 4 and 8
    assert [round(e.amount_usdt, 2) for e in result.events] == [10.0, 10.0]
    assert result.timeline["wallet_usdt"].iloc[-1] == pytest.approx(10_020.0, abs=EXACT)


def test_replay_default_funding_rate_is_the_accounts():
    account = guide("cross", funding_rate=0.0002)
    result = replay(account, {"BTCUSDT": np.full(3, 60_000.0)}, funding_interval_steps=2)
    assert [round(e.amount_usdt, 2) for e in result.events] == [-4.0]  # 20,000 × 0.0002


def _equity_before(result, account: Account, step: int, marks: dict[str, float]) -> float:
    """Wallet after the previous step plus the PnL, at this step's marks, of what was open."""
    previous = result.timeline.iloc[step - 1]
    total = previous["wallet_usdt"]
    for p in account.positions:
        if previous[f"{p.symbol}.open"]:
            total += p.sign * p.quantity * (marks[p.symbol] - p.entry_price)
    return total


@pytest.mark.parametrize("stop_fill", ["stop", "market"])
def test_replay_fees_and_funding_move_wallet_and_equity_by_the_event_amounts(stop_fill):
    account = (
        Account(wallet_balance=10_000, fee_rate=0.0005, liquidation_fee_rate=0.001)
        .set_margin_mode("ETHUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
        .open("ETHUSDT", side="short", price=3_000, leverage=20, margin=1_000)
    )
    # BTC whipsaws through its stop; ETH grinds up until its isolated short liquidates.
    prices = {
        "BTCUSDT": teaching_path("whipsaw", start_price=60_000, n_steps=80, depth_rate=0.08),
        "ETHUSDT": teaching_path(
            "slow_grind", start_price=3_000, n_steps=80, depth_rate=0.08, against="short"
        ),
    }
    result = replay(
        account,
        prices,
        stops={"BTCUSDT": 57_000},
        stop_fill=stop_fill,
        slippage_rate=0.002,
        funding_rate=0.0003,
        funding_interval_steps=8,
    )
    kinds = {e.kind for e in result.events}
    assert {"funding", "stop", "fee", "liquidation", "insurance_fund"} <= kinds
    wallet = result.timeline["wallet_usdt"]
    equity = result.timeline["equity_usdt"]
    assert wallet.iloc[0] == account.wallet_balance  # nothing happens at step 0
    for step in range(1, len(wallet)):
        moved = wallet.iloc[step] - wallet.iloc[step - 1]
        assert moved == pytest.approx(amounts(result, step), abs=EXACT)
        marks = {s: prices[s][step] for s in prices}
        cash = amounts(result, step, CASH_KINDS)
        # a stop realizes PnL at its fill, not at the mark: equity moves by the difference
        fills = sum(
            e.amount_usdt
            - account.position(e.symbol).sign
            * account.position(e.symbol).quantity
            * (e.mark_price - account.position(e.symbol).entry_price)
            for e in result.events
            if e.step == step and e.kind == "stop"
        )
        before = _equity_before(result, account, step, marks)
        assert equity.iloc[step] - before == pytest.approx(cash + fills, abs=EXACT)


def test_replay_stop_fills_at_the_gap_by_default_with_its_fee():
    # Gap from 58,000 to 52,000 through the stop at 57,000 (in cross, whose LP 30,120.48 is
    # far away). A stop-market order fills where the market is: 52,000, PnL
    # (52,000 − 60,000)/3 = −2,666.67; fee 1/3 × 52,000 × 0.0005 = 8.67.
    account = guide("cross", fee_rate=0.0005)
    path = np.array([60_000.0, 58_000.0, 52_000.0, 61_000.0])
    result = replay(account, {"BTCUSDT": path}, stops={"BTCUSDT": 57_000})
    stop, fee = result.events
    assert (stop.step, stop.kind, stop.price, stop.mark_price) == (2, "stop", 52_000.0, 52_000.0)
    assert stop.amount_usdt == pytest.approx(-2_666.67, abs=CENT)
    assert (fee.kind, round(fee.amount_usdt, 2)) == ("fee", -8.67)
    # wallet: 10,000 − 10 opening fee (20,000 × 0.0005) − 2,666.67 − 8.67 = 7,314.67
    assert result.final_equity_usdt == pytest.approx(7_314.67, abs=CENT)


def test_replay_idealised_stop_fill_is_an_explicit_option():
    # The same gap with stop_fill="stop": filled at 57,000 as if the book held it.
    # PnL −1,000; fee 1/3 × 57,000 × 0.0005 = 9.50; wallet 10,000 − 10 − 1,000 − 9.50.
    account = guide("cross", fee_rate=0.0005)
    path = np.array([60_000.0, 58_000.0, 52_000.0, 61_000.0])
    result = replay(account, {"BTCUSDT": path}, stops={"BTCUSDT": 57_000}, stop_fill="stop")
    stop, fee = result.events
    assert (stop.step, stop.kind, stop.price, stop.mark_price) == (2, "stop", 57_000.0, 52_000.0)
    assert stop.amount_usdt == pytest.approx(-1_000.0, abs=CENT)
    assert (fee.kind, round(fee.amount_usdt, 2)) == ("fee", -9.5)
    assert result.final_equity_usdt == pytest.approx(8_980.50, abs=CENT)


def test_replay_stop_fill_with_slippage_is_worse_in_a_gap():
    # Same gap, filled at the 52,000 step price less 0.1 % slippage: 51,948 → PnL −2,684.
    path = np.array([60_000.0, 58_000.0, 52_000.0, 61_000.0])
    result = replay(
        guide("cross"),
        {"BTCUSDT": path},
        stops={"BTCUSDT": 57_000},
        slippage_rate=0.001,
    )
    (stop,) = result.events
    assert stop.price == pytest.approx(51_948.0, abs=CENT)
    assert stop.amount_usdt == pytest.approx(-2_684.0, abs=CENT)
    assert result.stopped_at == {"BTCUSDT": 2}


def test_replay_stop_above_the_lp_fires_first_in_a_gap_and_fills_at_the_gap():
    # The flash-crash wick (−12 %: 52,800) jumps past the stop (57,000) and the isolated
    # LP (54,216.87) in one step. The price passes the stop first, so the stop fires; it
    # fills at 52,800, a loss of (60,000 − 52,800)/3 = 2,400, but an isolated position
    # cannot lose more than its 2,000 margin: the insurance fund covers the other 400.
    path = teaching_path("flash_crash_wick", start_price=60_000, n_steps=41)
    result = replay(guide("isolated"), {"BTCUSDT": path}, stops={"BTCUSDT": 57_000})
    assert result.stopped_at == {"BTCUSDT": 20}
    assert result.liquidated_at == {"BTCUSDT": -1}
    stop, fund = result.events
    assert (stop.kind, stop.price) == ("stop", pytest.approx(52_800.0, abs=CENT))
    assert stop.amount_usdt == pytest.approx(-2_400.0, abs=CENT)
    assert (fund.kind, fund.amount_usdt) == ("insurance_fund", pytest.approx(400.0, abs=CENT))
    assert result.final_equity_usdt == pytest.approx(8_000.0, abs=EXACT)
    # The idealised fill saves what the gap cannot: 9,000 kept.
    ideal = replay(
        guide("isolated"), {"BTCUSDT": path}, stops={"BTCUSDT": 57_000}, stop_fill="stop"
    )
    assert ideal.final_equity_usdt == pytest.approx(9_000.0, abs=CENT)


def test_replay_stop_below_the_lp_is_never_reached_in_a_gap():
    # A stop at 53,000 lies beyond the isolated LP (54,216.87): the falling price meets the
    # liquidation first, so the same gap liquidates and the stop is cancelled with it.
    path = teaching_path("flash_crash_wick", start_price=60_000, n_steps=41)
    result = replay(guide("isolated"), {"BTCUSDT": path}, stops={"BTCUSDT": 53_000})
    assert result.liquidated_at == {"BTCUSDT": 20}
    assert result.stopped_at == {"BTCUSDT": -1}
    assert result.final_equity_usdt == pytest.approx(8_000.0, abs=EXACT)


def test_replay_stop_fill_past_bankruptcy_costs_the_margin_and_no_more():
    # 100x isolated long of 200 margin (Q = 1/3): LP (60,000 − 600)/0.996 = 59,638.55,
    # bankruptcy 59,400. A stop at 59,700 triggered by the 59,650 price (above the LP, so
    # no liquidation) with 0.5 % slippage fills at 59,351.75, past bankruptcy: the loss
    # 216.08 is capped at the 200 margin and the insurance fund covers 16.08.
    account = (
        Account(wallet_balance=10_000)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=100, margin=200)
    )
    assert account.liquidation_price("BTCUSDT") == pytest.approx(59_638.55, abs=CENT)
    result = replay(
        account,
        {"BTCUSDT": np.array([60_000.0, 59_650.0])},
        stops={"BTCUSDT": 59_700},
        slippage_rate=0.005,
    )
    stop, fund = result.events
    assert stop.price == pytest.approx(59_351.75, abs=CENT)
    assert stop.amount_usdt == pytest.approx(-216.08, abs=CENT)
    assert (fund.kind, fund.amount_usdt) == ("insurance_fund", pytest.approx(16.08, abs=CENT))
    assert result.final_equity_usdt == pytest.approx(9_800.0, abs=CENT)


# ------------------------------------------------------------------- mark vs last price
WICK_MARKS = np.array([60_000.0, 59_000.0, 58_500.0, 59_500.0, 60_500.0])
WICK_LASTS = np.array([60_000.0, 59_000.0, 53_000.0, 59_500.0, 60_500.0])  # one print at 53k


def test_replay_stop_fires_on_a_last_price_wick_that_does_not_liquidate():
    # The last price wicks to 53,000, below the isolated LP 54,216.87; the mark (58,500)
    # does not follow, so nothing is liquidated. The stop at 57,000 watches the last
    # price: it fires and fills at the wick, 53,000: a loss of 7,000/3 = 2,333.33, capped
    # at the 2,000 margin (the insurance fund covers 333.33).
    result = replay(
        guide("isolated"),
        {"BTCUSDT": WICK_MARKS},
        last_prices={"BTCUSDT": WICK_LASTS},
        stops={"BTCUSDT": 57_000},
    )
    assert result.stopped_at == {"BTCUSDT": 2}
    assert result.liquidated_at == {"BTCUSDT": -1}
    stop, fund = result.events
    assert (stop.price, stop.mark_price) == (53_000.0, 58_500.0)
    assert fund.amount_usdt == pytest.approx(333.33, abs=CENT)
    assert result.final_equity_usdt == pytest.approx(8_000.0, abs=CENT)
    assert result.timeline["BTCUSDT.last_price"].tolist() == WICK_LASTS.tolist()
    assert result.timeline["BTCUSDT.mark_price"].tolist() == WICK_MARKS.tolist()
    # Without the stop the position rides the wick out: the mark never reaches the LP.
    held = replay(guide("isolated"), {"BTCUSDT": WICK_MARKS}, last_prices={"BTCUSDT": WICK_LASTS})
    assert held.liquidated_at == {"BTCUSDT": -1}
    assert held.final_equity_usdt == pytest.approx(10_000 + (60_500 - 60_000) / 3, abs=CENT)


def test_replay_stop_on_the_mark_ignores_a_last_price_wick():
    result = replay(
        guide("isolated"),
        {"BTCUSDT": WICK_MARKS},
        last_prices={"BTCUSDT": WICK_LASTS},
        stops={"BTCUSDT": 57_000},
        stop_trigger="mark",
    )
    assert result.stopped_at == {"BTCUSDT": -1}
    assert result.events == ()


def test_replay_stop_on_the_mark_fills_at_the_worse_of_stop_and_last():
    # Trigger on the mark (56,000 <= 57,000) while the last price is 57,500: the market
    # fill is the worse of the stop (57,000) and the last price, so 57,000.
    marks = np.array([60_000.0, 56_000.0])
    lasts = np.array([60_000.0, 57_500.0])
    result = replay(
        guide("cross"),
        {"BTCUSDT": marks},
        last_prices={"BTCUSDT": lasts},
        stops={"BTCUSDT": 57_000},
        stop_trigger="mark",
    )
    (stop,) = result.events
    assert (stop.price, stop.mark_price) == (57_000.0, 56_000.0)


# ------------------------------------------------------------------ funding and isolation
def test_replay_funding_the_margin_cannot_cover_liquidates_and_takes_nothing_more():
    # 100 USDT isolated at 100x (notional 10,000 at 60,000); funding 3 % charges 300 at the
    # first interval: more than the 100 margin, so the position is liquidated. The wallet
    # loses the 100 and nothing more: 10,000 → 9,900.
    account = (
        Account(wallet_balance=10_000)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=100, margin=100)
    )
    result = replay(
        account, {"BTCUSDT": np.full(4, 60_000.0)}, funding_rate=0.03, funding_interval_steps=2
    )
    assert result.liquidated_at == {"BTCUSDT": 2}
    kinds = [(e.step, e.kind, round(e.amount_usdt, 2)) for e in result.events]
    assert kinds == [(2, "funding", -100.0), (2, "liquidation", 0.0), (2, "insurance_fund", -0.0)]
    assert result.final.wallet_balance == pytest.approx(9_900.0, abs=EXACT)
    assert result.final_equity_usdt == pytest.approx(9_900.0, abs=EXACT)


def test_replay_funding_the_cross_pool_cannot_cover_liquidates_the_pool():
    # A cross long of 20,000 notional in a 500 USDT wallet at 3 % funding pays 600 > 500:
    # the pool is liquidated and its 500 is gone, nothing more.
    account = Account(wallet_balance=500).open(
        "BTCUSDT", side="long", price=60_000, leverage=50, quantity=1 / 3
    )
    result = replay(
        account, {"BTCUSDT": np.full(3, 60_000.0)}, funding_rate=0.03, funding_interval_steps=1
    )
    assert result.liquidated_at == {"BTCUSDT": 1}
    funding = [e for e in result.events if e.kind == "funding"]
    assert [(e.symbol, e.amount_usdt) for e in funding] == [(None, -500.0)]
    assert result.final.wallet_balance == 0.0


# ------------------------------------------------------------------------ hedge mode
def test_replay_hedge_mode_keys_are_symbol_and_side():
    account = (
        Account(wallet_balance=10_000)
        .set_hedge_mode(True)
        .set_margin_mode("BTCUSDT", "isolated")
        .open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
        .open("BTCUSDT", side="short", price=60_000, leverage=10, margin=2_000)
    )
    result = replay(account, {"BTCUSDT": decline(0.3)}, stops={"BTCUSDT:short": 61_000})
    # the short's stop is never reached (the path falls); the long leg liquidates at 33
    assert result.keys == ("BTCUSDT:long", "BTCUSDT:short")
    assert result.liquidated_at == {"BTCUSDT:long": 33, "BTCUSDT:short": -1}
    assert "BTCUSDT:short.liquidation_price" in result.timeline.columns


def test_replay_events_frame_has_one_row_per_event():
    result = replay(guide("isolated"), {"BTCUSDT": decline(0.3)})
    frame = result.events_frame()
    assert frame["kind"].tolist() == ["liquidation", "insurance_fund"]
    assert frame["amount_usdt"].sum() == pytest.approx(-2_000.0, abs=EXACT)


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("prices", "options", "error", "match"),
    [
        pytest.param(
            {"ETHUSDT": [1.0, 2.0]}, {}, ValueError, "prices: no path for BTCUSDT", id="sym"
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0, 0.0]},
            {},
            ValueError,
            r"prices\['BTCUSDT'\]\[1\] must be a finite price greater than 0",
            id="zero",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0, float("nan")]}, {}, ValueError, r"\[1\] must be", id="nan"
        ),
        pytest.param({"BTCUSDT": [[60_000.0, 1.0]]}, {}, ValueError, "must be one path", id="2-d"),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"stops": {"BTCUSDT": 61_000}},
            ValueError,
            r"stops\['BTCUSDT'\] must be below the entry price 60,000.00 for a long",
            id="stop-side",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"stops": {"ETHUSDT": 2_000}},
            ValueError,
            "stops: no open position 'ETHUSDT'; positions are 'BTCUSDT'",
            id="stop-key",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"stop_fill": "limit"},
            ValueError,
            "stop_fill must be 'market'",
            id="fill",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"stop_trigger": "index"},
            ValueError,
            "stop_trigger must be 'last'",
            id="trigger",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"funding_rate": 0.0001},
            ValueError,
            "funding_rate: 0.0001 was given without funding_interval_steps",
            id="rate-without-interval",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0], "ETHUSDT": [3_000.0]},
            {},
            ValueError,
            r"prices\['ETHUSDT'\]: there is no open position on ETHUSDT",
            id="extra-symbol",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0, 59_000.0]},
            {"last_prices": {"BTCUSDT": [60_000.0]}},
            ValueError,
            r"last_prices\['BTCUSDT'\] must have the shape of its mark prices \(2,\), got \(1,\)",
            id="last-length",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"last_prices": {"ETHUSDT": [3_000.0]}},
            ValueError,
            r"last_prices\['ETHUSDT'\]: no mark prices for it in prices",
            id="last-symbol",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0, 59_000.0]},
            {"last_prices": {"BTCUSDT": [60_000.0, -1.0]}},
            ValueError,
            r"last_prices\['BTCUSDT'\]\[1\] must be a finite price",
            id="last-negative",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"slippage_rate": 0.5},
            ValueError,
            "slippage_rate must be between 0 and 0.2",
            id="slippage",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"funding_interval_steps": 0},
            ValueError,
            "funding_interval_steps must be at least 1",
            id="interval",
        ),
        pytest.param(
            {"BTCUSDT": [60_000.0]},
            {"funding_interval_steps": 8, "funding_rate": 0.5},
            ValueError,
            "funding_rate must be between -0.03 and 0.03",
            id="rate",
        ),
        pytest.param([60_000.0], {}, TypeError, "prices must be a mapping", id="not-a-mapping"),
    ],
)
def test_replay_bad_input_says_what_is_wrong(prices, options, error, match):
    with pytest.raises(error, match=match):
        replay(guide("isolated"), prices, **options)


def test_replay_paths_of_different_lengths_are_refused():
    account = losing_neighbour_account("cross")
    prices = {"BTCUSDT": [60_000.0, 60_000.0], "ETHUSDT": [3_000.0]}
    with pytest.raises(ValueError, match="same number of steps, got BTCUSDT: 2, ETHUSDT: 1"):
        replay(account, prices)
