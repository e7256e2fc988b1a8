"""Speed of ``liquidation_price`` on 1,000,000 scenarios beside a bare numpy floor.

The floor is the same expression and the same NaN rule written directly in numpy, with
no input checks: the fastest this computation can go in numpy. ``liquidation_price``
adds its validation (types, finiteness, ranges, the side) on top; the goal is to stay
within 1.5x of the floor. The side is given two ways: an array of +1/−1 and an array of
"long"/"short" strings; the strings' floor turns them into signs with one comparison.

Run:  .venv/bin/python benchmarks/liquidation.py [--scenarios N] [--repeats R]
(OPENBLAS_CORETYPE, if set, does not matter here: every operation is element-wise.)
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import numpy as np

from marginlab.engine import liquidation_price

GOAL = 1.5


def scenarios(n: int, seed: int) -> dict[str, np.ndarray]:
    """Random one-way positions: USDT money terms, prices in USDT, rates as fractions."""
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], n)
    quantity = rng.uniform(0.001, 50.0, n)
    entry_price = rng.uniform(100.0, 150_000.0, n)
    leverage = rng.integers(1, 126, n)
    return {
        "sign": sign,
        "text": np.where(sign > 0, "long", "short"),
        "quantity": quantity,
        "entry_price": entry_price,
        "wallet_balance": quantity * entry_price / leverage * rng.uniform(1.0, 5.0, n),
        "maintenance_rate": rng.choice([0.004, 0.005, 0.0065, 0.01, 0.02], n),
        "maintenance_amount": rng.choice([0.0, 300.0, 1_500.0, 12_000.0], n),
        "other_maintenance": rng.uniform(0.0, 500.0, n),
        "other_unrealized_pnl": rng.uniform(-2_000.0, 2_000.0, n),
    }


def floor(s: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
    """LP = (WB − TMM1 + UPNL1 + cum − s·Q·EP) / (Q·(MMR − s)); NaN where not positive."""
    q, ep = d["quantity"], d["entry_price"]
    lp = (
        d["wallet_balance"]
        - d["other_maintenance"]
        + d["other_unrealized_pnl"]
        + d["maintenance_amount"]
        - s * q * ep
    ) / (q * (d["maintenance_rate"] - s))
    with np.errstate(invalid="ignore"):
        return np.where(lp > 0, lp, np.nan)


def engine(side: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
    return liquidation_price(
        side=side,
        quantity=d["quantity"],
        entry_price=d["entry_price"],
        wallet_balance=d["wallet_balance"],
        maintenance_rate=d["maintenance_rate"],
        maintenance_amount=d["maintenance_amount"],
        other_maintenance=d["other_maintenance"],
        other_unrealized_pnl=d["other_unrealized_pnl"],
    )


def best_seconds(
    cases: dict[str, Callable[[], object]], repeats: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Best CPU time and best wall time of each case; the cases take turns so that drift
    hits all alike. CPU time (this process only) is the figure compared: on a shared
    machine wall time also counts the moments another process held the core."""
    cpu = dict.fromkeys(cases, float("inf"))
    wall = dict.fromkeys(cases, float("inf"))
    for _ in range(repeats):
        for name, run in cases.items():
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            run()
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
            wall[name] = min(wall[name], time.perf_counter() - start_wall)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    d = scenarios(args.scenarios, args.seed)
    cases = {
        "floor, side ±1": lambda: floor(d["sign"], d),
        "liquidation_price, side ±1": lambda: engine(d["sign"], d),
        "floor, side strings": lambda: floor(np.where(d["text"] == "long", 1.0, -1.0), d),
        "liquidation_price, side strings": lambda: engine(d["text"], d),
    }
    reference = floor(d["sign"], d)
    for name in ("liquidation_price, side ±1", "liquidation_price, side strings"):
        if not np.array_equal(cases[name](), reference, equal_nan=True):
            raise SystemExit(f"{name}: results differ from the floor")

    best, wall = best_seconds(cases, args.repeats)
    n = args.scenarios
    print(
        f"liquidation_price on {n:,} scenarios, best of {args.repeats} "
        f"(numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')})"
    )
    print(f"  {'case':<34}{'CPU ms':>9}{'scenarios/s':>15}{'vs floor':>10}{'wall ms':>10}")
    for name, seconds in best.items():
        floor_name = "floor, side ±1" if "±1" in name else "floor, side strings"
        ratio = seconds / best[floor_name]
        print(
            f"  {name:<34}{seconds * 1e3:>9.2f}{n / seconds:>15,.0f}{ratio:>9.2f}x"
            f"{wall[name] * 1e3:>10.2f}"
        )
    for kind in ("±1", "strings"):
        ratio = best[f"liquidation_price, side {kind}"] / best[f"floor, side {kind}"]
        verdict = "met" if ratio <= GOAL else "NOT met"
        print(f"  side {kind}: {ratio:.2f}x the floor (goal <= {GOAL}x: {verdict})")
    strings_vs_numeric = best["liquidation_price, side strings"] / best["floor, side ±1"]
    print(f"  side strings vs the ±1 floor: {strings_vs_numeric:.2f}x (parsing the labels)")
    print("  results identical to the floor (NaN where no positive price): yes")


if __name__ == "__main__":
    main()
