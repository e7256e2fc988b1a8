"""Risk over many paths: how often each margin choice liquidates and what it loses.

The quantitative form of the guide's "cross: harder to liquidate, larger potential
loss": one position (the guide's trade by default) is simulated on the same paths at
each leverage of a grid, in cross, isolated and isolated with a stop-loss, and each
combination is summarized by its probability of liquidation, its expected and worst
loss and the spread of final equity. Loss is measured against ``wallet_balance``, the
account before the position was opened (so it includes the opening fee).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from marginlab.engine import _validate
from marginlab.engine.account import Account
from marginlab.engine.errors import MarginError
from marginlab.engine.montecarlo import SimulationResult, simulate_paths
from marginlab.engine.types import MarginMode, Side

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

RISK_MODES: tuple[str, ...] = ("cross", "isolated", "cross_stop", "isolated_stop")
"""Modes :func:`risk_summary` knows: a margin mode, optionally with a stop-loss."""

DEFAULT_RISK_MODES: tuple[str, ...] = ("cross", "isolated", "isolated_stop")

SUMMARY_COLUMNS: tuple[str, ...] = (
    "liquidation_probability",
    "stop_probability",
    "mean_loss_usdt",
    "worst_loss_usdt",
    "mean_loss_if_liquidated_usdt",
    "final_equity_mean_usdt",
    "final_equity_p05_usdt",
    "final_equity_p50_usdt",
    "final_equity_p95_usdt",
)
"""Columns of :func:`summarize` / :func:`risk_summary` (probabilities are fractions)."""


def summarize(result: SimulationResult, wallet_balance: float | None = None) -> dict[str, float]:
    """Key figures of a simulation over its paths.

    Loss per path = ``wallet_balance`` (USDT in the account before the positions were
    opened; default: the start equity) − final equity,
    so a negative loss is a gain. ``liquidation_probability`` is the share of paths on
    which any position was liquidated, ``stop_probability`` the share on which a stop
    closed one; ``mean_loss_if_liquidated_usdt`` averages only those liquidated paths
    (NaN if none); ``final_equity_pNN_usdt`` are percentiles of final equity.

    >>> from marginlab.scenarios import guide_account
    >>> paths = np.array([[60_000.0, 54_000.0], [60_000.0, 63_000.0]])
    >>> figures = summarize(simulate_paths(guide_account("isolated"), {"BTCUSDT": paths}))
    >>> figures["liquidation_probability"], figures["worst_loss_usdt"]
    (0.5, 2000.0)
    """
    start = result.start_equity_usdt if wallet_balance is None else float(wallet_balance)
    equity = result.final_equity_usdt
    loss = start - equity
    liquidated = result.liquidated()
    p05, p50, p95 = np.percentile(equity, [5, 50, 95])
    return {
        "liquidation_probability": float(liquidated.mean()),
        "stop_probability": float(result.stopped().mean()),
        "mean_loss_usdt": float(loss.mean()),
        "worst_loss_usdt": float(loss.max()),
        "mean_loss_if_liquidated_usdt": float(loss[liquidated].mean())
        if liquidated.any()
        else np.nan,
        "final_equity_mean_usdt": float(equity.mean()),
        "final_equity_p05_usdt": float(p05),
        "final_equity_p50_usdt": float(p50),
        "final_equity_p95_usdt": float(p95),
    }


def _modes(modes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(modes, str) or not modes:
        raise TypeError(f"modes must be a non-empty list drawn from {RISK_MODES}, got {modes!r}")
    for mode in modes:
        if mode not in RISK_MODES:
            raise MarginError(f"modes: each must be one of {', '.join(RISK_MODES)}, got {mode!r}")
    return tuple(modes)


def _leverages(leverages: object) -> tuple[float, ...]:
    values = np.atleast_1d(np.asarray(leverages, dtype=float))
    if values.ndim != 1 or values.size == 0:
        raise MarginError(f"leverages must be a non-empty list of numbers, got {leverages!r}")
    return tuple(_validate.number(float(v), "leverages") for v in values)


def _price_array(prices: object) -> np.ndarray:
    arr = np.asarray(prices, dtype=float)
    if arr.ndim != 2:
        raise MarginError(f"prices must have shape (n_paths, n_steps), got shape {arr.shape}")
    return arr


def _runs(
    prices: object,
    leverages: object,
    *,
    wallet_balance: float,
    margin: float,
    symbol: str,
    side: object,
    entry_price: float | None,
    stop_loss_rate: float,
    modes: Sequence[str],
    fee_rate: float,
    liquidation_fee_rate: float,
    funding_rate: float | None,
    funding_interval_steps: int | None,
    stop_fill: str,
    slippage_rate: float,
):
    """Yield (leverage, mode, account, SimulationResult) for every combination of the grid."""
    arr = _price_array(prices)
    wanted = _modes(modes)
    levels = _leverages(leverages)
    direction = Side.parse(side)
    entry = (
        float(arr[0, 0]) if entry_price is None else _validate.positive(entry_price, "entry_price")
    )
    stop_rate = _validate.in_range(stop_loss_rate, "stop_loss_rate", 1e-6, 0.99, " (a fraction)")
    stop_price = entry * (1.0 - direction.sign * stop_rate)
    base = Account(
        wallet_balance=wallet_balance,
        fee_rate=fee_rate,
        liquidation_fee_rate=liquidation_fee_rate,
    )
    for leverage in levels:
        accounts = {}
        for margin_mode in (MarginMode.CROSS, MarginMode.ISOLATED):
            account = base.set_margin_mode(symbol, margin_mode)
            accounts[margin_mode] = account.open(
                symbol, side=direction, price=entry, leverage=leverage, margin=margin
            )
        for mode in wanted:
            account = accounts[MarginMode.parse(mode.removesuffix("_stop"))]
            key = account.positions[0].symbol
            stops = {key: stop_price} if mode.endswith("_stop") else None
            result = simulate_paths(
                account,
                {symbol: arr},
                stops=stops,
                stop_fill=stop_fill,
                slippage_rate=slippage_rate,
                funding_rate=funding_rate,
                funding_interval_steps=funding_interval_steps,
            )
            yield leverage, mode, account, result


def risk_summary(
    prices: np.ndarray,
    leverages: Sequence[float],
    *,
    wallet_balance: float = 10_000.0,
    margin: float = 2_000.0,
    symbol: str = "BTCUSDT",
    side: object = "long",
    entry_price: float | None = None,
    stop_loss_rate: float = 0.05,
    modes: Sequence[str] = DEFAULT_RISK_MODES,
    fee_rate: float = 0.0,
    liquidation_fee_rate: float = 0.0,
    funding_rate: float | None = None,
    funding_interval_steps: int | None = None,
    stop_fill: str = "market",
    slippage_rate: float = 0.0,
) -> pd.DataFrame:
    """Probability of liquidation, expected and worst loss, final equity, per leverage and mode.

    One position of ``margin`` USDT at each leverage (notional = margin × leverage) on
    ``symbol``, opened at ``entry_price`` (default: ``prices[0, 0]``) in an account of
    ``wallet_balance`` USDT, simulated on every path of ``prices`` (shape
    ``(n_paths, n_steps)``) in each of ``modes`` (:data:`RISK_MODES`; ``_stop`` places a
    stop-loss ``stop_loss_rate`` away from entry, e.g. 0.05 = 5 % below for a long).
    ``funding_rate`` (per interval) goes with ``funding_interval_steps``; ``stop_fill`` is
    :func:`simulate_paths`' (default "market": a gap through the stop fills at the gap).

    Returns a DataFrame indexed by (``leverage``, ``mode``) with the columns of
    :data:`SUMMARY_COLUMNS` plus ``liquidation_price`` (at entry; NaN if none) and
    ``stop_price`` (NaN without a stop).

    >>> paths = np.array([[60_000.0, 50_000.0, 66_000.0], [60_000.0, 62_000.0, 63_000.0]])
    >>> table = risk_summary(paths, [10], modes=["cross", "isolated"])
    >>> table["liquidation_probability"].tolist(), table["worst_loss_usdt"].tolist()
    ([0.0, 0.5], [-1000.0, 2000.0])
    """
    settings = {name: value for name, value in locals().items() if name in _SETTINGS}
    import pandas as pd

    rows = []
    for leverage, mode, account, result in _runs(prices, leverages, **settings):
        figures = summarize(result, wallet_balance)
        position = account.positions[0]
        figures["liquidation_price"] = account.liquidation_price(position.symbol)
        stop = mode.endswith("_stop")
        figures["stop_price"] = (
            position.entry_price * (1.0 - position.sign * stop_loss_rate) if stop else np.nan
        )
        rows.append({"leverage": leverage, "mode": mode, **figures})
    return pd.DataFrame(rows).set_index(["leverage", "mode"])


_SETTINGS = tuple(
    name
    for name, parameter in inspect.signature(risk_summary).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


def risk_outcomes(prices: np.ndarray, leverages: Sequence[float], **settings: Any) -> pd.DataFrame:
    """Every path's outcome for the grid of :func:`risk_summary` (for distributions).

    ``settings`` are :func:`risk_summary`'s keywords, with its defaults. Long form, one
    row per (leverage, mode, path): ``final_equity_usdt``, ``loss_usdt``
    (``wallet_balance`` − final equity), ``liquidated`` and ``stopped`` (booleans).

    >>> paths = np.array([[60_000.0, 50_000.0], [60_000.0, 62_000.0]])
    >>> risk_outcomes(paths, [10], modes=["isolated"])["loss_usdt"].round(2).tolist()
    [2000.0, -666.67]
    """
    unknown = sorted(set(settings) - set(_SETTINGS))
    if unknown:
        raise TypeError(f"risk_outcomes: unknown setting {', '.join(unknown)}; see risk_summary")
    defaults = inspect.signature(risk_summary).parameters
    settings = {name: settings.get(name, defaults[name].default) for name in _SETTINGS}
    wallet_balance = settings["wallet_balance"]
    import pandas as pd

    frames = []
    for leverage, mode, _account, result in _runs(prices, leverages, **settings):
        frames.append(
            pd.DataFrame(
                {
                    "leverage": leverage,
                    "mode": mode,
                    "path": np.arange(result.n_paths),
                    "final_equity_usdt": result.final_equity_usdt,
                    "loss_usdt": wallet_balance - result.final_equity_usdt,
                    "liquidated": result.liquidated(),
                    "stopped": result.stopped(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
