"""How fast simulate_paths is, next to the floor of reading the prices once.

Run: .venv/bin/python benchmarks/simulate.py [--paths 10000] [--steps 1000] [--repeat 5]

Figures are printed, not asserted (goals from issue 3):
* one BTC position, each mode, 10,000 paths x 1,000 steps: <= 1 s, and within 5x of
  one bare numpy pass over the same array (``prices.min(axis=1)``: reading the prices once);
* two symbols in one cross pool: <= 2 s;
* peak memory (tracemalloc, which numpy reports to) <= 3x the price array(s): printed as
  the extra memory a call allocates and as (prices + extra) / prices.
Times are the best of ``--repeat`` runs. The machine is shared, so each case is timed
alternately with its floor, and the ratio compares the two best times.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from marginlab.engine import Account, correlated_gbm_paths, gbm_paths, simulate_paths


def best_times(run: Callable[[], object], floor: Callable[[], object], repeat: int):
    """Best wall time (s) of ``run`` and of ``floor``, measured alternately."""
    best_run = best_floor = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        floor()
        middle = time.perf_counter()
        run()
        end = time.perf_counter()
        best_floor = min(best_floor, middle - start)
        best_run = min(best_run, end - middle)
    return best_run, best_floor


def peak_bytes(run: Callable[[], object]) -> int:
    """Peak traced allocation during ``run`` above what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def one_position(mode: str) -> Account:
    account = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", mode)
    return account.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)


def two_in_cross() -> Account:
    account = Account(wallet_balance=10_000)
    account = account.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    return account.open("ETHUSDT", side="short", price=3_000, leverage=10, margin=2_000)


def report(
    name: str,
    run: Callable[[], object],
    floor: Callable[[], object],
    array_bytes: int,
    goal: str,
    repeat: int,
) -> None:
    seconds, floor_seconds = best_times(run, floor, repeat)
    extra = peak_bytes(run)
    print(
        f"{name:<38} {seconds * 1e3:7.1f} ms  floor {floor_seconds * 1e3:5.1f} ms  "
        f"{seconds / floor_seconds:4.1f}x floor  peak +{extra / 2**20:4.1f} MiB "
        f"= {(array_bytes + extra) / array_bytes:4.2f}x prices  (goal {goal})"
    )


def bench_one_symbol(n_paths: int, n_steps: int, repeat: int) -> None:
    # Volatile enough that many paths liquidate (so events are really processed).
    btc = gbm_paths(60_000, n_paths, n_steps, volatility=1.2, jump_intensity=5, seed=1)
    prices = {"BTCUSDT": btc}
    print(f"one symbol: {n_paths:,} paths x {n_steps:,} steps, {btc.nbytes / 2**20:.0f} MiB")
    print("floor = btc.min(axis=1), one bare numpy pass over the prices")

    def floor():
        return btc.min(axis=1)

    cases = [
        ("one BTC long, isolated", one_position("isolated"), {}),
        ("one BTC long, cross", one_position("cross"), {}),
        ("one BTC long, isolated + stop", one_position("isolated"), {"stops": {"BTCUSDT": 57_000}}),
        ("one BTC long, cross + stop", one_position("cross"), {"stops": {"BTCUSDT": 57_000}}),
    ]
    # a last-price path that wicks 1 % below the mark on every 50th step (stops watch it)
    wick = np.ones(n_steps)
    wick[25::50] = 0.99
    last = {"BTCUSDT": btc * wick}
    stop = {"stops": {"BTCUSDT": 57_000}}
    cases += [
        (
            "isolated + stop, idealised fill",
            one_position("isolated"),
            {**stop, "stop_fill": "stop"},
        ),
        (
            "isolated + stop on last-price wicks",
            one_position("isolated"),
            {**stop, "last_prices": last},
        ),
    ]
    for name, account, options in cases:

        def run(a=account, o=options):
            return simulate_paths(a, prices, **o)

        report(name, run, floor, btc.nbytes, "<= 1 s, <= 5x floor, <= 3x prices", repeat)
        result = run()
        print(
            f"{'':<38} liquidated on {result.liquidated().mean():.1%} of paths, "
            f"stopped on {result.stopped().mean():.1%}"
        )


def bench_cross_pool(n_paths: int, n_steps: int, repeat: int) -> None:
    pair = correlated_gbm_paths(
        {"BTCUSDT": 60_000, "ETHUSDT": 3_000},
        n_paths,
        n_steps,
        correlation=0.5,
        volatility=1.2,
        jump_intensity=5,
        seed=2,
    )
    both = sum(a.nbytes for a in pair.values())
    print(f"two symbols: {n_paths:,} paths x {n_steps:,} steps each, {both / 2**20:.0f} MiB")
    print("floor = min(axis=1) over both price arrays")

    def floor():
        return [a.min(axis=1) for a in pair.values()]

    account = two_in_cross()
    cases = [
        ("BTC long + ETH short, one cross pool", {}, "<= 2 s, <= 3x prices"),
        (
            "same, funding every 8 steps",
            {"funding_rate": 0.0001, "funding_interval_steps": 8},
            "none set",
        ),
    ]
    for name, options, goal in cases:

        def run(o=options):
            return simulate_paths(account, pair, **o)

        report(name, run, floor, both, goal, repeat)
        print(f"{'':<38} liquidated on {run().liquidated().mean():.1%} of paths")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_one_symbol(args.paths, args.steps, args.repeat)
    bench_cross_pool(args.paths, args.steps, args.repeat)


if __name__ == "__main__":
    main()
