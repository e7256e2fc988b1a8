"""Funding never breaks isolation (docs/formulas.md §7): Account.apply_funding, replay and
simulate_paths settle it alike, and an isolated position never costs more than its margin
and fees, whatever the path and the funding rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marginlab.engine import (
    MAX_FUNDING_RATE,
    Account,
    MarginError,
    gbm_paths,
    replay,
    simulate_paths,
)
from marginlab.scenarios import guide_account

EXACT = 1e-9  # USDT
BTC, ETH = "BTCUSDT", "ETHUSDT"


def thin(margin: float = 100.0, leverage: float = 100.0, side: str = "long") -> Account:
    """An isolated BTC position of ``margin`` USDT in a 10,000 USDT account."""
    account = Account(wallet_balance=10_000).set_margin_mode(BTC, "isolated")
    return account.open(BTC, side=side, price=60_000, leverage=leverage, margin=margin)


# ---------------------------------------------------------------- Account.apply_funding
def test_funding_the_isolated_margin_cannot_cover_liquidates_it_and_takes_no_more():
    # The case: 100 USDT isolated at 100x (notional 10,000); a 3 % payment is 300.
    # The margin covers 100 of it: the position is liquidated and the wallet loses 100,
    # not 300 (before: the margin was floored at 0 and the wallet paid 300).
    account = thin()
    after = account.apply_funding({BTC: 60_000}, rate=0.03)
    assert after.positions == ()
    assert after.wallet_balance == 9_900.0
    assert after.cross_wallet_balance == 9_900.0  # the cross pool is untouched


def test_funding_the_isolated_margin_covers_moves_margin_and_wallet_alike():
    # 20,000 × 0.1 % = 20 from the 2,000 margin: 1,980 left, wallet 9,980, pool 8,000.
    after = guide_account("isolated").apply_funding({BTC: 60_000}, rate=0.001)
    assert after.position(BTC).isolated_margin == 1_980.0
    assert after.wallet_balance == 9_980.0
    assert after.cross_wallet_balance == 8_000.0


def test_funding_received_by_an_isolated_position_grows_its_margin():
    after = thin(side="short").apply_funding({BTC: 60_000}, rate=0.03)  # the short receives
    assert after.position(BTC).isolated_margin == pytest.approx(400.0, abs=EXACT)
    assert after.wallet_balance == pytest.approx(10_300.0, abs=EXACT)


def test_funding_the_cross_pool_cannot_cover_liquidates_the_pool_only():
    # cross BTC long of 1/3 BTC (20,000 notional) and an isolated ETH long of 1,000 margin in
    # a 1,500 wallet: the pool holds 500 and owes 600 at 3 %: the cross position goes, the
    # pool's 500 is lost, the isolated ETH position (which pays its own 300) keeps 700.
    account = (
        Account(wallet_balance=1_500)
        .set_margin_mode(ETH, "isolated")
        .open(ETH, side="long", price=3_000, leverage=10, margin=1_000)
        .open(BTC, side="long", price=60_000, leverage=50, quantity=1 / 3)
    )
    after = account.apply_funding({BTC: 60_000, ETH: 3_000}, rate=0.03)
    assert [p.symbol for p in after.positions] == [ETH]
    assert after.position(ETH).isolated_margin == pytest.approx(700.0, abs=EXACT)
    assert after.wallet_balance == pytest.approx(700.0, abs=EXACT)
    assert after.cross_wallet_balance == pytest.approx(0.0, abs=EXACT)


@pytest.mark.parametrize("rate", [0.031, -0.5, float("nan")])
def test_apply_funding_rate_out_of_range_is_refused_and_changes_nothing(rate):
    account = guide_account("isolated")
    with pytest.raises(MarginError, match=r"rate must be (between -0.03 and 0.03|a finite)"):
        account.apply_funding({BTC: 60_000}, rate=rate)
    assert account == guide_account("isolated")


# --------------------------------------------- the same inputs through all three routes
def _account_route(account: Account, path: np.ndarray, rate: float, interval: int):
    """Funding and liquidation with Account operations only, step by step."""
    acct, liquidated_at = account, -1
    for step, mark in enumerate(path):
        marks = {BTC: float(mark)} if acct.positions else None
        if step > 0 and step % interval == 0 and acct.positions:
            before = acct.positions
            acct = acct.apply_funding(marks, rate=rate)
            if before and not acct.positions:
                liquidated_at = step
        if acct.positions:
            outcome = acct.liquidate({BTC: float(mark)})
            if outcome.happened:
                liquidated_at, acct = step, outcome.account
    return acct, liquidated_at


@pytest.mark.parametrize(
    ("leverage", "margin", "rate", "interval"),
    [
        pytest.param(100, 100, 0.03, 3, id="funding-liquidates-100x"),
        pytest.param(50, 500, 0.01, 2, id="funding-wears-the-margin-down"),
        pytest.param(20, 1_000, -0.02, 4, id="negative-rate-pays-the-long"),
        pytest.param(10, 2_000, 0.0005, 1, id="every-step"),
    ],
)
def test_account_replay_and_simulate_agree_on_funding(leverage, margin, rate, interval):
    account = thin(margin, leverage)
    paths = gbm_paths(60_000, 12, 40, volatility=0.8, seed=leverage)
    options = {"funding_rate": rate, "funding_interval_steps": interval}
    simulated = simulate_paths(account, {BTC: paths}, **options)
    if rate * leverage >= 1:  # one payment is at least the margin: some paths end that way
        assert (simulated.funding_usdt == -margin).any()
    for i, path in enumerate(paths):
        final, liquidated_at = _account_route(account, path, rate, interval)
        replayed = replay(account, {BTC: path}, **options)
        assert replayed.liquidated_at[BTC] == liquidated_at == simulated.liquidated_at[BTC][i]
        assert replayed.final.wallet_balance == final.wallet_balance
        assert simulated.final_wallet_usdt[i] == final.wallet_balance
        assert simulated.final_equity_usdt[i] == replayed.final_equity_usdt


# ------------------------------------------------------------------------ the property
@settings(max_examples=60, deadline=None)
@given(
    side=st.sampled_from(["long", "short"]),
    leverage=st.sampled_from([1, 5, 20, 50, 100, 125]),
    margin=st.floats(min_value=50.0, max_value=2_000.0),  # 125x stays in bracket 1
    rate=st.floats(min_value=-MAX_FUNDING_RATE, max_value=MAX_FUNDING_RATE),
    interval=st.integers(min_value=1, max_value=12),
    fee_rate=st.sampled_from([0.0, 0.0002, 0.0005]),
    stop=st.sampled_from([None, 0.02, 0.1]),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_isolated_total_cost_never_exceeds_margin_plus_fees(
    side, leverage, margin, rate, interval, fee_rate, stop, seed
):
    """Over any path with any funding rate in range, what an isolated position costs the
    account (start wallet − final equity) is at most its margin plus its fees."""
    wallet = 10_000.0
    base = Account(wallet_balance=wallet, fee_rate=fee_rate).set_margin_mode(BTC, "isolated")
    account = base.open(BTC, side=side, price=60_000, leverage=leverage, margin=margin)
    open_fee = wallet - account.wallet_balance
    paths = gbm_paths(60_000, 30, 60, volatility=1.5, jump_intensity=40, seed=seed)
    sign = account.position(BTC).sign
    options = {"funding_rate": rate, "funding_interval_steps": interval}
    if stop is not None:
        options["stops"] = {BTC: 60_000 * (1 - sign * stop)}
    result = simulate_paths(account, {BTC: paths}, **options)
    cost = wallet - result.final_equity_usdt
    bound = margin + open_fee + result.fees_usdt
    assert (cost <= bound + EXACT).all()
    # the rest of the wallet is never touched: at least wallet − margin − fees is kept
    assert (result.final_wallet_usdt >= wallet - bound - EXACT).all()
    # replay agrees on the first paths
    for i in range(3):
        reference = replay(account, {BTC: paths[i]}, **options)
        assert reference.final_equity_usdt == result.final_equity_usdt[i]
        assert (
            wallet - reference.final_equity_usdt <= margin + open_fee + result.fees_usdt[i] + EXACT
        )
