"""Mark-price paths: seeded random walks, named teaching paths and a learner's own history.

Every generator returns float64 prices in USDT, all positive. Step 0 is the start (the
moment positions are opened); prices are marks (the price risk is checked against).

* :func:`gbm_paths` / :func:`correlated_gbm_paths`: geometric Brownian motion with
  optional jumps (crashes), shape ``(n_paths, n_steps)``, reproducible bit for bit from
  ``seed`` (numpy ``Generator``).
* :class:`PathModel`: the settings of a set of random paths in one value, which draws
  them (:meth:`PathModel.paths`) and names its model in a sentence for the screen
  (:meth:`PathModel.describe`): drift, volatility, jump rate and size.
* :func:`teaching_path`: a deterministic 1-D path by name (:data:`TEACHING_PATHS`),
  shaped against a long (down) or a short (up); its mark or its last (traded) price.
* :func:`load_prices`: a CSV file or DataFrame of ``timestamp`` + ``close`` (or OHLC),
  validated with messages that name the row and the column.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from marginlab.engine import _validate
from marginlab.engine.errors import MarginError
from marginlab.engine.types import Side

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

HOURS_PER_YEAR = 365.0 * 24.0

MAX_PATH_BYTES = 2**30
"""Largest allocation (bytes) a path generator may make: 1 GiB, e.g. 134 million float64
prices for one symbol. Larger settings are refused up front, naming them."""

_MAX_LOG_MOVE = 690.0  # exp(±690) ≈ 1e±300: further from the start, float64 prices are 0 or inf
_TAIL = 12.0  # standard deviations allowed for: a wider move than this never happens

TEACHING_PATHS: tuple[str, ...] = (
    "steady_decline",
    "v_dip_recovery",
    "whipsaw",
    "flash_crash_wick",
    "slow_grind",
    "last_price_wick",
)
"""Names accepted by :func:`teaching_path`, in teaching order."""

# Default size of the adverse move of each teaching path, as a fraction of the start price.
_DEFAULT_DEPTH = {
    "steady_decline": 0.30,
    "v_dip_recovery": 0.15,
    "whipsaw": 0.06,
    "flash_crash_wick": 0.12,
    "slow_grind": 0.12,
    "last_price_wick": 0.08,
}
_WICK_MARK_SHARE = 0.25  # last_price_wick: the mark dips a quarter of the wick's depth
TEACHING_PRICES = ("mark", "last")


def _count(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {value!r}")
    if value < low:
        raise MarginError(f"{name} must be at least {low}, got {value!r}")
    return int(value)


def _check_feasible(
    start_prices: list[float], paths: int, steps: int, arrays: int, args: list[dict[str, float]]
) -> None:
    """Refuse settings that would allocate more than MAX_PATH_BYTES, or whose log prices
    could leave the range float64 holds (prices of 0 or infinity), naming the settings.

    The move allowed for over the horizon ``T = step_hours·(n_steps − 1)/8,760`` years is
    ``|μ − σ²/2|·T + 12·σ·√T`` plus, with jumps, ``k·|jump_mean| + 12·jump_std·√k`` for
    ``k = λT + 12·√(λT) + 12`` jumps: a 12-standard-deviation bound on every term.
    """
    first = args[0]
    cells = paths * steps
    dt = first["step_hours"] / HOURS_PER_YEAR
    jumps = first["jump_intensity"] * dt * paths * max(steps - 1, 0)
    needed = (arrays * cells + 4 * jumps) * 8
    if needed > MAX_PATH_BYTES:
        raise MarginError(
            f"n_paths, n_steps: {paths:,} paths × {steps:,} steps need about "
            f"{needed / 2**30:,.1f} GiB, more than the {MAX_PATH_BYTES / 2**30:g} GiB allowed "
            f"(at most {MAX_PATH_BYTES // (8 * arrays):,} prices per symbol); lower n_paths or "
            "n_steps" + (" or jump_intensity" if 4 * jumps > arrays * cells else "")
        )
    years = first["step_hours"] * max(steps - 1, 0) / HOURS_PER_YEAR
    for start, a in zip(start_prices, args, strict=True):
        terms = {
            "drift_rate": abs(a["drift_rate"]) * years,
            "volatility": 0.5 * a["volatility"] ** 2 * years
            + _TAIL * a["volatility"] * math.sqrt(years),
        }
        if a["jump_intensity"] > 0:
            count = a["jump_intensity"] * years
            count += _TAIL * math.sqrt(count) + _TAIL
            terms["jump_intensity, jump_mean, jump_std"] = count * abs(a["jump_mean"]) + _TAIL * a[
                "jump_std"
            ] * math.sqrt(count)
        move = sum(terms.values())
        room = _MAX_LOG_MOVE - abs(math.log(start))
        if move > room:
            culprit = max(terms, key=terms.get)
            raise MarginError(
                f"{culprit}: over {years:,.2f} years (n_steps × step_hours) these settings can "
                f"move the log price by up to {move:,.0f}, and float64 prices then reach 0 or "
                f"infinity (at most {room:,.0f} from this start price); lower {culprit}, "
                "n_steps or step_hours"
            )


def _seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a whole number >= 0 (for reproducible paths), got {seed!r}")
    return int(seed)


def _log_increments(
    rng: np.random.Generator,
    shape: tuple[int, int],
    *,
    volatility: float,
    drift_rate: float,
    step_hours: float,
) -> np.ndarray:
    """GBM log-returns per step, ``(μ − σ²/2)·dt + σ·√dt·Z``; column 0 is zero (the start)."""
    dt = step_hours / HOURS_PER_YEAR
    out = rng.standard_normal(shape)
    out *= volatility * math.sqrt(dt)
    out += (drift_rate - 0.5 * volatility**2) * dt
    out[:, 0] = 0.0
    return out


def _add_jumps(
    rng: np.random.Generator,
    log_increments: np.ndarray,
    *,
    jump_intensity: float,
    jump_mean: float,
    jump_std: float,
    step_hours: float,
) -> None:
    """Add Poisson jumps in place (Merton): ``jump_intensity`` per year, log sizes N(mean, std).

    Drawn sparsely: the total count over every (path, step) cell is Poisson and each jump
    lands in a uniformly chosen cell, which gives each cell an independent Poisson count.
    """
    n_paths, n_steps = log_increments.shape
    cells = n_paths * (n_steps - 1)  # no jump at step 0
    if jump_intensity == 0 or cells == 0:
        return
    dt = step_hours / HOURS_PER_YEAR
    total = rng.poisson(jump_intensity * dt * cells)
    where = rng.integers(0, cells, size=total)
    sizes = rng.normal(jump_mean, jump_std, size=total)
    rows, cols = np.divmod(where, n_steps - 1)
    np.add.at(log_increments, (rows, cols + 1), sizes)


def _to_prices(log_increments: np.ndarray, start_price: float) -> np.ndarray:
    """Cumulate log-returns into prices, in place (one array of the final size)."""
    np.cumsum(log_increments, axis=1, out=log_increments)
    np.exp(log_increments, out=log_increments)
    log_increments *= start_price
    return log_increments


def _gbm_args(
    volatility: object,
    drift_rate: object,
    step_hours: object,
    jump_intensity: object,
    jump_mean: object,
    jump_std: object,
) -> dict[str, float]:
    return {
        "volatility": _validate.in_range(volatility, "volatility", 0.0, 10.0, " (annual)"),
        "drift_rate": _validate.in_range(drift_rate, "drift_rate", -10.0, 10.0, " (annual)"),
        "step_hours": _validate.positive(step_hours, "step_hours"),
        "jump_intensity": _validate.in_range(
            jump_intensity, "jump_intensity", 0.0, 1e4, " jumps per year"
        ),
        "jump_mean": _validate.in_range(jump_mean, "jump_mean", -5.0, 5.0, " (log size)"),
        "jump_std": _validate.in_range(jump_std, "jump_std", 0.0, 5.0, " (log size)"),
    }


def gbm_paths(
    start_price: float,
    n_paths: int,
    n_steps: int,
    *,
    volatility: float = 0.6,
    drift_rate: float = 0.0,
    step_hours: float = 1.0,
    jump_intensity: float = 0.0,
    jump_mean: float = -0.10,
    jump_std: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """Seeded geometric Brownian motion mark prices, optionally with jumps (crashes).

    ``log P[k] = log P[0] + Σ_{i<=k} ((μ − σ²/2)·dt + σ·√dt·Z_i + J_i)`` with
    ``dt = step_hours / 8,760``, ``σ = volatility`` and ``μ = drift_rate`` (both annual
    fractions; BTC's volatility is roughly 0.5-0.8) and ``J_i`` the sum of the jumps in
    step ``i``: a Poisson number with ``jump_intensity`` jumps per year, each of log size
    drawn from N(``jump_mean``, ``jump_std``) (−0.10 is a fall of about 9.5 %).

    Returns an array of shape ``(n_paths, n_steps)``, float64, all > 0, with
    ``prices[:, 0] == start_price``. The same arguments and ``seed`` give the same array,
    bit for bit.

    >>> p = gbm_paths(60_000, 3, 5, seed=1)
    >>> p.shape, p[:, 0].tolist()
    ((3, 5), [60000.0, 60000.0, 60000.0])
    >>> bool((gbm_paths(60_000, 3, 5, seed=1) == p).all())
    True
    """
    start = _validate.positive(start_price, "start_price", " USDT")
    paths = _count(n_paths, "n_paths", 1)
    steps = _count(n_steps, "n_steps", 1)
    args = _gbm_args(volatility, drift_rate, step_hours, jump_intensity, jump_mean, jump_std)
    _check_feasible([start], paths, steps, 1, [args])
    rng = np.random.default_rng(_seed(seed))
    log_inc = _log_increments(
        rng,
        (paths, steps),
        volatility=args["volatility"],
        drift_rate=args["drift_rate"],
        step_hours=args["step_hours"],
    )
    _add_jumps(
        rng,
        log_inc,
        jump_intensity=args["jump_intensity"],
        jump_mean=args["jump_mean"],
        jump_std=args["jump_std"],
        step_hours=args["step_hours"],
    )
    return _to_prices(log_inc, start)


def correlated_gbm_paths(
    start_prices: Mapping[str, float],
    n_paths: int,
    n_steps: int,
    *,
    correlation: float = 0.8,
    volatility: float | Mapping[str, float] = 0.6,
    drift_rate: float = 0.0,
    step_hours: float = 1.0,
    jump_intensity: float = 0.0,
    jump_mean: float = -0.10,
    jump_std: float = 0.05,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """GBM paths for several symbols whose step returns share one ``correlation``.

    Each symbol follows :func:`gbm_paths` (its own ``volatility`` if a mapping is given);
    the normal shocks of any two symbols have correlation ``correlation`` (which must be
    above ``−1/(n_symbols − 1)``). Jumps are market-wide: a crash hits every symbol at the
    same step with the same log size. Returns ``{symbol: (n_paths, n_steps) array}``.

    >>> p = correlated_gbm_paths({"BTCUSDT": 60_000, "ETHUSDT": 3_000}, 2, 4, seed=7)
    >>> sorted(p), p["ETHUSDT"][:, 0].tolist()
    (['BTCUSDT', 'ETHUSDT'], [3000.0, 3000.0])
    """
    if not isinstance(start_prices, Mapping) or not start_prices:
        raise TypeError(
            "start_prices must be a non-empty mapping such as {'BTCUSDT': 60000}, "
            f"got {start_prices!r}"
        )
    names = [_validate.symbol(s) for s in start_prices]
    starts = [
        _validate.positive(p, f"start_prices[{s!r}]", " USDT") for s, p in start_prices.items()
    ]
    paths = _count(n_paths, "n_paths", 1)
    steps = _count(n_steps, "n_steps", 1)
    n = len(names)
    rho = _validate.in_range(correlation, "correlation", -1.0, 1.0)
    if n > 1 and rho <= -1.0 / (n - 1):
        raise MarginError(
            f"correlation must be above {-1.0 / (n - 1):g} for {n} symbols, got {correlation!r}"
        )
    if isinstance(volatility, Mapping):
        missing = [s for s in names if s not in {_validate.symbol(k) for k in volatility}]
        if missing:
            raise MarginError(f"volatility: no value for {', '.join(missing)}")
        vols = {_validate.symbol(k): v for k, v in volatility.items()}
        vol_list = [vols[s] for s in names]
    else:
        vol_list = [volatility] * n
    args = [
        _gbm_args(v, drift_rate, step_hours, jump_intensity, jump_mean, jump_std) for v in vol_list
    ]
    _check_feasible(starts, paths, steps, 2 * n + 1, args)  # shocks, jumps and the results
    rng = np.random.default_rng(_seed(seed))
    matrix = np.full((n, n), rho)
    np.fill_diagonal(matrix, 1.0)
    chol = np.linalg.cholesky(matrix)
    shocks = [rng.standard_normal((paths, steps)) for _ in range(n)]
    jumps = np.zeros((paths, steps))
    first = args[0]
    _add_jumps(
        rng,
        jumps,
        jump_intensity=first["jump_intensity"],
        jump_mean=first["jump_mean"],
        jump_std=first["jump_std"],
        step_hours=first["step_hours"],
    )
    dt = first["step_hours"] / HOURS_PER_YEAR
    result = {}
    for i, (name, start, a) in enumerate(zip(names, starts, args, strict=True)):
        log_inc = np.zeros((paths, steps))
        for j in range(i + 1):
            if chol[i, j] != 0.0:
                log_inc += chol[i, j] * shocks[j]
        log_inc *= a["volatility"] * math.sqrt(dt)
        log_inc += (a["drift_rate"] - 0.5 * a["volatility"] ** 2) * dt
        log_inc[:, 0] = 0.0
        log_inc += jumps
        result[name] = _to_prices(log_inc, start)
    return result


@dataclass(frozen=True)
class PathModel:
    """A set of seeded random paths as one value: its model and its size.

    Geometric Brownian motion with optional jumps (:func:`gbm_paths`; with
    ``correlation``, :func:`correlated_gbm_paths` for several symbols). Every conclusion
    drawn from random paths depends on these settings, so a widget shows
    :meth:`describe` beside it. ``volatility``, ``drift_rate`` and ``jump_intensity`` are
    annual (fractions; jumps per year); ``jump_mean``/``jump_std`` the log size of a jump.
    ``volatility`` may map symbols to their own (several symbols).

    >>> model = PathModel(n_paths=400, n_steps=336, volatility=0.8)
    >>> model.name
    'random walk (geometric Brownian motion)'
    >>> for part in model.describe().removeprefix(f"{model.name}: ").split("; "):
    ...     print(part)
    400 paths of 336 hourly prices (about 14 days), seed 0
    volatility 80% a year
    no jumps
    no drift: the mean price stays where it started.
    """

    n_paths: int
    n_steps: int
    volatility: float | Mapping[str, float] = 0.6
    drift_rate: float = 0.0
    jump_intensity: float = 0.0
    jump_mean: float = -0.10
    jump_std: float = 0.05
    step_hours: float = 1.0
    seed: int = 0
    correlation: float | None = None

    def __post_init__(self) -> None:
        _count(self.n_paths, "n_paths", 1)
        _count(self.n_steps, "n_steps", 1)
        _seed(self.seed)
        for vol in self._volatilities():
            _gbm_args(
                vol,
                self.drift_rate,
                self.step_hours,
                self.jump_intensity,
                self.jump_mean,
                self.jump_std,
            )
        if self.correlation is not None:
            _validate.in_range(self.correlation, "correlation", -1.0, 1.0)

    def _volatilities(self) -> list[float]:
        vol = self.volatility
        return list(vol.values()) if isinstance(vol, Mapping) else [vol]

    @classmethod
    def fair(cls, **settings: object) -> PathModel:
        """The model with the drift that offsets its jumps: the mean price stays flat.

        ``drift_rate = −jump_intensity·(E[e^J] − 1)``, ``E[e^J] = exp(jump_mean +
        jump_std²/2)`` (Merton's compensator), so the mean path neither rises nor falls:
        a fair bet, on which an expected loss compares strategies, not a trend.

        >>> round(PathModel.fair(n_paths=1, n_steps=2, jump_intensity=6.0,
        ...     jump_mean=-0.08, jump_std=0.04).drift_rate, 4)
        0.4569
        """
        base = cls(**settings)  # type: ignore[arg-type]
        jump_growth = math.exp(base.jump_mean + 0.5 * base.jump_std**2) - 1.0
        return replace(base, drift_rate=-base.jump_intensity * jump_growth + 0.0)

    @property
    def horizon_years(self) -> float:
        """From the first step to the last, in years."""
        return self.step_hours * (self.n_steps - 1) / HOURS_PER_YEAR

    @property
    def mean_growth_rate(self) -> float:
        """Annual growth rate of the mean price: ``E[P_t] = P_0·exp(rate·t)``.

        ``drift_rate + jump_intensity·(E[e^J] − 1)``: the drift, and what the jumps take
        on average (0 for :meth:`fair` models and for driftless paths without jumps).
        """
        jump_growth = math.exp(self.jump_mean + 0.5 * self.jump_std**2) - 1.0
        return self.drift_rate + self.jump_intensity * jump_growth

    @property
    def mean_return(self) -> float:
        """Expected change of the price over the whole path, a fraction (−0.05 = −5 %)."""
        return math.expm1(self.mean_growth_rate * self.horizon_years)

    def paths(self, start_price: float) -> np.ndarray:
        """The paths of one symbol, shape ``(n_paths, n_steps)`` (:func:`gbm_paths`)."""
        if isinstance(self.volatility, Mapping) or self.correlation is not None:
            raise MarginError(
                "start_price: this model has several symbols (a correlation or a volatility "
                "per symbol); use joint_paths({symbol: start price})"
            )
        return gbm_paths(start_price, self.n_paths, self.n_steps, **self._settings())

    def joint_paths(self, start_prices: Mapping[str, float]) -> dict[str, np.ndarray]:
        """Paths of several symbols at once (:func:`correlated_gbm_paths`)."""
        correlation = 0.0 if self.correlation is None else self.correlation
        return correlated_gbm_paths(
            start_prices,
            self.n_paths,
            self.n_steps,
            correlation=correlation,
            volatility=self.volatility,
            **self._settings(volatility=False),
        )

    def _settings(self, volatility: bool = True) -> dict[str, object]:
        settings: dict[str, object] = {
            "drift_rate": self.drift_rate,
            "step_hours": self.step_hours,
            "jump_intensity": self.jump_intensity,
            "jump_mean": self.jump_mean,
            "jump_std": self.jump_std,
            "seed": self.seed,
        }
        if volatility:
            settings["volatility"] = self.volatility
        return settings

    @property
    def name(self) -> str:
        """What kind of random walk: with crash jumps or without (how the screen names it)."""
        if self.jump_intensity > 0:
            return "random walk with crash jumps (geometric Brownian motion plus jumps)"
        return "random walk (geometric Brownian motion)"

    def describe(self) -> str:
        """The model in one sentence, every setting a conclusion depends on: its kind
        (:attr:`name`), size and seed, volatility, correlation, jumps and drift, and where
        the mean price goes. The one description of random paths used on screen."""
        unit = "hourly prices" if self.step_hours == 1.0 else f"prices {self.step_hours:g} h apart"
        days = round(self.n_steps * self.step_hours / 24.0, 1)
        parts = [
            f"{self.name}: {self.n_paths:,} paths of {self.n_steps:,} {unit} (about "
            f"{days:g} day{'' if days == 1 else 's'}), seed {self.seed}"
        ]
        if isinstance(self.volatility, Mapping):
            vols = ", ".join(f"{s} {_pct(v)}" for s, v in self.volatility.items())
            parts.append(f"volatility {vols} a year")
        else:
            parts.append(f"volatility {_pct(self.volatility)} a year")
        if self.correlation is not None:
            parts.append(f"correlation {self.correlation:g}")
        if self.jump_intensity > 0:
            size = math.expm1(self.jump_mean)
            where = ", market-wide" if self.correlation is not None else ""
            parts.append(
                f"crashes {self.jump_intensity:g} a year, each about {_pct(size, 1)} (log "
                f"size normal, mean {self.jump_mean:g}, sd {self.jump_std:g}){where}"
            )
        else:
            parts.append("no jumps")
        growth = self.mean_growth_rate
        if abs(growth) < 1e-12:
            offset = " that offsets the crashes" if self.jump_intensity > 0 else ""
            drift = f"drift {_pct(self.drift_rate)} a year{offset}" if offset else "no drift"
            parts.append(f"{drift}: the mean price stays where it started")
        else:
            drift = "no drift" if self.drift_rate == 0 else f"drift {_pct(self.drift_rate)} a year"
            way = "rises" if growth > 0 else "falls"
            parts.append(
                f"{drift}: the mean price {way} {_pct(abs(self.mean_return), 1)} by the end"
            )
        return "; ".join(parts) + "."


def _pct(rate: float, decimals: int = 0) -> str:
    """A fraction as a percentage for a sentence: 0.8 -> "80%", -0.0769 -> "-7.7%"."""
    value = round(100.0 * rate, decimals) + 0.0
    return f"{value:+.{decimals}f}%" if rate < 0 else f"{value:.{decimals}f}%"


def _teaching_shape(name: str, t: np.ndarray, depth: float) -> np.ndarray:
    """Adverse move (fraction of the start price, >= 0 means against the position) at t∈[0,1]."""
    if name == "steady_decline":
        return depth * t
    if name == "v_dip_recovery":
        return depth * (1.0 - np.abs(2.0 * t - 1.0))
    if name == "whipsaw":
        return depth * np.sin(2.0 * np.pi * 3.0 * t)
    if name == "flash_crash_wick":
        move = np.zeros_like(t)
        move[len(t) // 2] = depth  # one step down and straight back: a wick
        return move
    if name == "last_price_wick":  # the mark: a shallow dip and back (the wick is "last")
        return _WICK_MARK_SHARE * depth * (1.0 - np.abs(2.0 * t - 1.0))
    # slow_grind: drifts against the position; the relief rallies grow with time, so the
    # path never starts by moving in the position's favour
    return depth * t + 0.15 * depth * np.sin(2.0 * np.pi * 8.0 * t) * t


def teaching_path(
    name: str,
    *,
    start_price: float = 60_000.0,
    n_steps: int = 200,
    depth_rate: float | None = None,
    against: object = "long",
    price: str = "mark",
) -> np.ndarray:
    """A named, deterministic price path of ``n_steps`` (step 0 = ``start_price``).

    Names (:data:`TEACHING_PATHS`), each moving *against* a position on side ``against``
    (down for a long, up for a short) by ``depth_rate`` (fraction of the start price;
    default per path in brackets):

    * ``steady_decline`` (0.30): a straight line to −30 % at the last step.
    * ``v_dip_recovery`` (0.15): down to −15 % at the middle step and back to the start.
    * ``whipsaw`` (0.06): three full swings of ±6 %; a tight stop gets hit, then price returns.
    * ``flash_crash_wick`` (0.12): flat at the start except one step (the middle one) at −12 %.
    * ``slow_grind`` (0.12): drifts to −12 % with small relief rallies on the way.
    * ``last_price_wick`` (0.08): a wick in the **last** price only: the mark dips a
      quarter of the depth (−2 %) and comes back, while the last traded price touches
      −8 % at the middle step (a thin book traded through; the mark, built from an
      index across exchanges, does not follow: docs/formulas.md §9).

    ``price`` chooses the series: ``"mark"`` (what liquidation follows) or ``"last"``
    (the traded price a stop watches by default); they differ only for
    ``last_price_wick``.

    >>> p = teaching_path("v_dip_recovery", start_price=100.0, n_steps=5)
    >>> p.round(2).tolist()
    [100.0, 92.5, 85.0, 92.5, 100.0]
    >>> teaching_path("v_dip_recovery", start_price=100.0, n_steps=5, against="short").round(2)
    array([100. , 107.5, 115. , 107.5, 100. ])
    >>> teaching_path("last_price_wick", start_price=100.0, n_steps=5, price="last").round(2)
    array([100.,  99.,  92.,  99., 100.])
    """
    if name not in TEACHING_PATHS:
        raise MarginError(f"name must be one of {', '.join(TEACHING_PATHS)}, got {name!r}")
    if price not in TEACHING_PRICES:
        raise MarginError(f"price must be 'mark' or 'last', got {price!r}")
    start = _validate.positive(start_price, "start_price", " USDT")
    steps = _count(n_steps, "n_steps", 3)
    if depth_rate is None:
        depth = _DEFAULT_DEPTH[name]
    else:
        depth = _validate.in_range(depth_rate, "depth_rate", 0.0, 0.95, " (a fraction)")
    sign = Side.parse(against, "against").sign
    t = np.linspace(0.0, 1.0, steps)
    move = _teaching_shape(name, t, depth)
    if name == "last_price_wick" and price == "last":
        move[steps // 2] = depth  # one trade far through the book; the next is back
    move[0] = 0.0
    return start * (1.0 - sign * move)


# ----------------------------------------------------------------------------- loading
_PRICE_COLUMNS = ("open", "high", "low", "close")


def _describe_row(position: int, csv_name: str | None) -> str:
    """Human row number (1 = first data row), plus the CSV line (header is line 1)."""
    text = f"row {position + 1}"
    if csv_name is not None:
        text += f" (line {position + 2} of {csv_name})"
    return text


def load_prices(source: object, *, min_rows: int = 2) -> pd.DataFrame:
    """Load a learner's price history: ``timestamp`` plus ``close`` (or open/high/low/close).

    ``source`` is a CSV file path or a pandas DataFrame. Column names are matched without
    regard to case or surrounding spaces. Returns a DataFrame indexed by ``timestamp``
    (datetimes, or numbers if the column is numeric) with float64 price columns in the
    order open, high, low, close (those present). ``close`` is the mark price the
    simulation uses.

    Raises :class:`MarginError` saying exactly what is wrong: a directory, a missing file or
    one that is not UTF-8 (with the row), two columns whose names differ only in case or
    spaces, a missing column, a price that is not a number, missing (NaN) or not above 0
    (with its row and column), high below another price or low above one, a timestamp
    that does not parse, is repeated or goes backwards, or fewer than ``min_rows`` rows.
    Rows are numbered from 1 (the first data row); for a CSV file the line number
    (header = line 1) is given too.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"timestamp": ["2024-01-01", "2024-01-02"], "close": [42000, 43000]})
    >>> load_prices(frame)["close"].tolist()
    [42000.0, 43000.0]
    >>> try:
    ...     load_prices(frame.iloc[::-1])
    ... except MarginError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    timestamp must increase from row to row: row 2 (2024-01-01 ...) comes before ...
    """
    import pandas as pd

    minimum = _count(min_rows, "min_rows", 1)
    csv_name: str | None = None
    if isinstance(source, pd.DataFrame):
        named = {str(c).strip().lower() for c in source.columns}
        index_name = str(source.index.name).strip().lower()
        keep_index = index_name == "timestamp" and "timestamp" not in named
        raw = source.reset_index(drop=not keep_index)
    elif isinstance(source, (str, os.PathLike)):
        csv_name = os.path.basename(os.fspath(source))
        text = _read_text(os.fspath(source), csv_name)
        header = next(csv.reader(io.StringIO(text)), [])
        _check_unique_columns(header, csv_name)
        try:
            raw = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
        except pd.errors.EmptyDataError:
            raise MarginError(f"source: {csv_name} is empty (no header, no rows)") from None
    else:
        raise TypeError(
            f"source must be a CSV file path or a pandas DataFrame, got {type(source).__name__}"
        )

    _check_unique_columns(list(raw.columns), csv_name)
    columns = {str(c).strip().lower(): c for c in raw.columns}
    found = ", ".join(repr(str(c)) for c in raw.columns) or "none"
    for needed in ("timestamp", "close"):
        if needed not in columns:
            raise MarginError(
                f"missing column {needed!r}: a price file needs 'timestamp' and 'close' "
                f"(optionally 'open', 'high', 'low'); found {found}"
            )
    if len(raw) < minimum:
        raise MarginError(f"too few rows: need at least {minimum}, got {len(raw)}")

    prices = {}
    for name in _PRICE_COLUMNS:
        if name in columns:
            prices[name] = _price_column(raw[columns[name]], name, csv_name)
    _check_ohlc(prices, csv_name)
    stamps = _timestamps(raw[columns["timestamp"]], csv_name)
    frame = pd.DataFrame(prices, index=pd.Index(stamps, name="timestamp"))
    return frame


def _check_unique_columns(names: list[object], csv_name: str | None) -> None:
    """Refuse two columns whose names are equal up to case and surrounding spaces."""
    seen: dict[str, object] = {}
    for name in names:
        key = str(name).strip().lower()
        if key in seen:
            where = f" in {csv_name}" if csv_name else ""
            raise MarginError(
                f"columns {str(seen[key])!r} and {str(name)!r}{where} name the same column "
                f"{key!r} (names are matched without regard to case or spaces), so one "
                "would be ignored; rename or drop one"
            )
        seen[key] = name


def _read_text(path: str, csv_name: str) -> str:
    """The file's text, decoded as UTF-8; refused (naming the file and row) if it is a
    directory, missing, or not UTF-8."""
    if os.path.isdir(path):
        raise MarginError(f"source: {path!r} is a directory, not a CSV file")
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise MarginError(f"source: no such file {path!r}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        row = f"row {line - 1} (line {line})" if line > 1 else "the header (line 1)"
        raise MarginError(
            f"source: {csv_name} is not UTF-8 text: {row} has the byte "
            f"0x{data[error.start]:02x}; save the file as UTF-8"
        ) from None


def _price_column(column: pd.Series, name: str, csv_name: str | None) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    for position in np.flatnonzero(~np.isfinite(values) | (values <= 0)):
        where = _describe_row(int(position), csv_name)
        original = column.iloc[position]
        if original is None or (isinstance(original, float) and math.isnan(original)):
            raise MarginError(f"{where}: {name} is missing (NaN or empty)")
        if isinstance(original, str) and not original.strip():
            raise MarginError(f"{where}: {name} is missing (empty)")
        if isinstance(original, str) and original.strip().lower() in ("nan", "na", "null"):
            raise MarginError(f"{where}: {name} is missing ({original.strip()!r})")
        if math.isnan(values[position]):
            raise MarginError(f"{where}: {name} is not a number: {original!r}")
        raise MarginError(
            f"{where}: {name} must be a finite price greater than 0 USDT, got {original!r}"
        )
    return values


def _check_ohlc(prices: dict[str, np.ndarray], csv_name: str | None) -> None:
    if "high" in prices:
        for other in ("open", "low", "close"):
            if other in prices:
                bad = np.flatnonzero(prices["high"] < prices[other])
                if bad.size:
                    i = int(bad[0])
                    raise MarginError(
                        f"{_describe_row(i, csv_name)}: high {prices['high'][i]:g} is below "
                        f"{other} {prices[other][i]:g}"
                    )
    if "low" in prices:
        for other in ("open", "close"):
            if other in prices:
                bad = np.flatnonzero(prices["low"] > prices[other])
                if bad.size:
                    i = int(bad[0])
                    raise MarginError(
                        f"{_describe_row(i, csv_name)}: low {prices['low'][i]:g} is above "
                        f"{other} {prices[other][i]:g}"
                    )


def _timestamps(column: pd.Series, csv_name: str | None) -> pd.Index:
    import pandas as pd

    missing = column.isna() | column.astype(str).str.strip().eq("")
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise MarginError(f"{_describe_row(i, csv_name)}: timestamp is missing")
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = pd.DatetimeIndex(column)
    elif not (numeric := pd.to_numeric(column, errors="coerce")).isna().any():
        stamps = pd.Index(numeric.to_numpy(dtype=float))
    else:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
        if parsed.isna().any():
            i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            raise MarginError(
                f"{_describe_row(i, csv_name)}: timestamp {column.iloc[i]!r} is not a date/time"
            )
        stamps = pd.DatetimeIndex(parsed)
    values = stamps.to_numpy()
    if len(values) > 1:
        same = np.flatnonzero(values[1:] == values[:-1])
        back = np.flatnonzero(values[1:] < values[:-1])
        if same.size and (not back.size or same[0] < back[0]):
            i = int(same[0])
            raise MarginError(
                f"timestamp {stamps[i]} is repeated: {_describe_row(i, csv_name)} and "
                f"{_describe_row(i + 1, csv_name)}"
            )
        if back.size:
            i = int(back[0])
            raise MarginError(
                f"timestamp must increase from row to row: {_describe_row(i + 1, csv_name)} "
                f"({stamps[i + 1]}) comes before {_describe_row(i, csv_name)} ({stamps[i]})"
            )
    return stamps
