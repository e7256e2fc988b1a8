"""The guide's "when to use" cases (the guide's §4-5) as named, seeded scenarios.

Each scenario is one account opened in cross and in isolated (same positions, same
deposit), a seeded set of price paths, optional stop-losses, the guide's claim in one
line and the caveat where the claim stops holding. :meth:`WhenToUse.compare` runs both
modes on the same paths and returns the numbers that show the claim;
``tests/test_scenarios_when_to_use.py`` reproduces each claim and each caveat.

Paths are hourly steps (``step_hours=1``); volatility and drift are annual fractions.
Each scenario names its paths' model (``WhenToUse.model``, shown beside its numbers):
the random ones are :class:`~marginlab.engine.PathModel` s, driftless on average (their
drift offsets their crashes) unless the point is the crash or the trend itself, and then
the text says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from marginlab.engine import (
    MODES,
    Account,
    PathModel,
    ReplayResult,
    SimulationResult,
    replay,
    simulate_paths,
    summarize,
    teaching_path,
)
from marginlab.engine.errors import MarginError

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

TREND_DIP_RATE, TREND_TOP_RATE = 0.15, 0.20
"""The trend trade's drawn path: down 15 % by a third of the way, then up to +20 %."""
TREND_FALL_RATE = 0.35
"""The trend that never comes back: a steady fall of 35 %."""
TEST_STOP_RATE = 0.03
"""The strategy test's stop-loss in its caveat: 3 % below entry."""

CRASHES = {"volatility": 0.8, "jump_intensity": 6.0, "jump_mean": -0.08, "jump_std": 0.04}
"""BTC-like paths with crashes (about −7.7 % each, six a year), hourly steps."""


@dataclass(frozen=True, eq=False)
class WhenToUse:
    """One "when to use" case: both accounts, the paths, the claim and its caveat.

    ``accounts`` maps "cross" and "isolated" to the same positions in each mode, opened
    from ``wallet_balance``; ``prices`` maps each symbol to ``(n_paths, n_steps)`` marks;
    ``stops`` (optional) maps position keys to stop prices, used in both modes.
    ``favours`` is the mode the guide recommends here; ``model`` names how the paths
    were drawn (drift, volatility, jumps, or the hand-drawn shape), and why.
    """

    name: str
    title: str
    claim: str
    caveat: str
    favours: str
    wallet_balance: float  # USDT in each account before the positions were opened
    accounts: Mapping[str, Account]
    prices: Mapping[str, np.ndarray]
    model: str
    stops: Mapping[str, float] = field(default_factory=dict)

    def account(self, mode: str) -> Account:
        """The scenario's account in ``mode`` ("cross" or "isolated")."""
        if mode not in self.accounts:
            raise MarginError(f"mode must be one of {', '.join(self.accounts)}, got {mode!r}")
        return self.accounts[mode]

    def simulate(self, mode: str, **options: object) -> SimulationResult:
        """:func:`~marginlab.engine.simulate_paths` of ``mode`` on the scenario's paths."""
        stops = options.pop("stops", self.stops) or None
        return simulate_paths(self.account(mode), self.prices, stops=stops, **options)

    def replay(self, mode: str, path: int = 0, **options: object) -> ReplayResult:
        """:func:`~marginlab.engine.replay` of ``mode`` along one path (its timeline and events)."""
        if not 0 <= path < self.n_paths:
            raise MarginError(f"path must be between 0 and {self.n_paths - 1}, got {path!r}")
        stops = options.pop("stops", self.stops) or None
        marks = {symbol: paths[path] for symbol, paths in self.prices.items()}
        return replay(self.account(mode), marks, stops=stops, **options)

    def compare(self, **options: object) -> pd.DataFrame:
        """One row per mode with :func:`~marginlab.engine.summarize`'s figures (vs the deposit)."""
        import pandas as pd

        rows = {
            mode: summarize(self.simulate(mode, **options), self.wallet_balance) for mode in MODES
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "mode"
        return frame

    @property
    def n_paths(self) -> int:
        return next(iter(self.prices.values())).shape[0]

    @property
    def n_steps(self) -> int:
        return next(iter(self.prices.values())).shape[1]


def _usdt(amount: float) -> str:
    """An amount for a claim: "2,000 USDT" (whole), "520.52 USDT" (with cents)."""
    return f"{amount:,.0f} USDT" if float(amount).is_integer() else f"{amount:,.2f} USDT"


def _pct(rate: float) -> str:
    """A fraction as a percentage for a claim, as the charts write it: 0.0964 -> "9.64%"."""
    return f"{100 * rate:.2f}%".replace(".00%", "%")


def _leverage(value: float) -> str:
    return f"{value:g}x"


def _below(account: Account, symbol: str = "BTCUSDT") -> float:
    """How far from entry ``symbol``'s position liquidates, a fraction (NaN: no price)."""
    levels = account.levels(symbol)
    return abs(levels.liquidation_price - levels.entry_price) / levels.entry_price


def _days(n_steps: int) -> str:
    """Hourly steps as a duration for a claim: 24 -> "one-day", 720 -> "30-day"."""
    days = n_steps / 24
    return "one-day" if days == 1 else f"{days:g}-day"


def _both_modes(deposit: float, open_positions: Callable[[Account], Account]) -> dict[str, Account]:
    """The same positions opened in each margin mode (every symbol set to that mode)."""
    accounts = {}
    for mode in MODES:
        account = Account(wallet_balance=deposit)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            account = account.set_margin_mode(symbol, mode)
        accounts[mode] = open_positions(account)
    return accounts


# ------------------------------------------------------------------------ cross (§4)
def hedge(
    *, correlation: float = 0.95, n_paths: int = 400, n_steps: int = 24 * 14, seed: int = 41
) -> WhenToUse:
    """BTC long and ETH short, 2,000 USDT each at 10x, two weeks of correlated prices.

    Cross: the winning leg's profit stands behind the losing leg, so the pair is (almost)
    never liquidated; isolated: each leg is liquidated on its own ~9.6 % move. With
    weakly correlated legs (``correlation=0``) the "hedge" is two bets and cross can
    lose the whole 10,000 while isolated loses at most the 4,000 assigned.
    """
    accounts = _both_modes(
        10_000.0,
        lambda a: a.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000).open(
            "ETHUSDT", side="short", price=3_000, leverage=10, margin=2_000
        ),
    )
    paths = PathModel.fair(
        n_paths=n_paths, n_steps=n_steps, seed=seed, correlation=correlation, **CRASHES
    )
    prices = paths.joint_paths({"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0})
    isolated = accounts["isolated"]
    margins = sum(p.isolated_margin for p in isolated.positions)
    return WhenToUse(
        name="hedge",
        title="A hedge: offsetting positions",
        claim="Offsetting legs share margin in cross, so the pair is liquidated far less often "
        "than the same legs isolated, where each leg is liquidated on its own move (the BTC "
        f"long {_pct(_below(isolated))} below entry, the ETH short "
        f"{_pct(_below(isolated, 'ETHUSDT'))} above).",
        caveat="With uncorrelated legs it is no hedge: cross can then lose the whole account "
        f"({_usdt(isolated.wallet_balance)}), isolated at most the two margins "
        f"({_usdt(margins)}).",
        favours="cross",
        wallet_balance=10_000.0,
        accounts=accounts,
        prices=prices,
        model=paths.describe(),
    )


def large_account_small_positions(
    *,
    wallet_balance: float = 100_000.0,
    margin: float = 2_000.0,
    n_paths: int = 400,
    n_steps: int = 24 * 30,
    seed: int = 42,
) -> WhenToUse:
    """A BTC long of ``margin`` at 10x in an account of ``wallet_balance``, one month.

    With 100,000 behind a 20,000 position, cross has no positive liquidation price at
    all; isolated is liquidated on a 9.6 % fall. With a position large next to the
    account (10,000 behind 5,000 x 10x) cross liquidates too, and then loses it all.
    """
    accounts = _both_modes(
        wallet_balance,
        lambda a: a.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=margin),
    )
    paths = PathModel.fair(n_paths=n_paths, n_steps=n_steps, seed=seed, **CRASHES)
    prices = {"BTCUSDT": paths.paths(60_000.0)}
    cross, isolated = accounts["cross"], accounts["isolated"]
    notional = isolated.position("BTCUSDT").entry_notional
    if math.isnan(cross.liquidation_price("BTCUSDT")):
        cross_part = "has no liquidation price at all (the wallet covers a fall to zero)"
    else:
        cross_part = f"liquidates {_pct(_below(cross))} below entry"
    return WhenToUse(
        name="large_account_small_positions",
        title="A large account holding small positions",
        claim=f"With {_usdt(wallet_balance)} behind a {_usdt(notional)} position, cross "
        f"{cross_part}, while the same trade isolated liquidates {_pct(_below(isolated))} below "
        "entry, a fall these paths often reach.",
        caveat="The buffer is the account: a position large next to the account liquidates in "
        "cross too, and then takes the whole balance.",
        favours="cross",
        wallet_balance=wallet_balance,
        accounts=accounts,
        prices=prices,
        model=paths.describe(),
    )


def trend_trade_through_drawdown(
    *, recovers: bool = True, n_paths: int = 300, n_steps: int = 24 * 30, seed: int = 43
) -> WhenToUse:
    """The guide's BTC long (2,000 at 10x, 10,000 account) through a 15 % drawdown.

    The paths follow a dip to −15 % at a third of the month and a trend to +20 % by its
    end, with seeded noise. Cross rides the dip out (its liquidation price is −50 %
    away) and ends up; isolated is liquidated in the dip and misses the trend. When the
    trend does not come back (``recovers=False``: a steady fall to −35 %) cross ends
    with a far larger loss than isolated's 2,000.
    """
    accounts = _both_modes(
        10_000.0,
        lambda a: a.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000),
    )
    t = np.linspace(0.0, 1.0, n_steps)
    dip, top = TREND_DIP_RATE, TREND_TOP_RATE
    if recovers:  # straight down to the dip at a third of the way, then up to the top
        shape = np.interp(t, [0.0, 1.0 / 3.0, 1.0], [1.0, 1.0 - dip, 1.0 + top])
        drawn = (
            f"down {_pct(dip)} in a straight line to a third of the way, then up to "
            f"+{_pct(top)} by the end"
        )
    else:
        fall = TREND_FALL_RATE
        shape = teaching_path("steady_decline", start_price=1.0, n_steps=n_steps, depth_rate=fall)
        drawn = f"a steady fall to -{_pct(fall)}, never coming back"
    noise = PathModel(n_paths=n_paths, n_steps=n_steps, volatility=0.3, seed=seed)
    prices = {"BTCUSDT": 60_000.0 * shape[None, :] * noise.paths(1.0)}
    model = (
        f"Hand-drawn: {drawn} (the trend is the point), each path multiplied by the noise of "
        f"a {noise.describe()}"
    )
    isolated = accounts["isolated"]
    position = isolated.position("BTCUSDT")
    return WhenToUse(
        name="trend_trade_through_drawdown",
        title="A trend trade that must ride out a drawdown",
        claim=f"Cross rides out a {_pct(dip)} drawdown that liquidates the same "
        f"{_leverage(position.leverage)} trade isolated ({_pct(_below(isolated))} below entry), "
        "and when the trend comes back it ends in profit.",
        caveat="If the trend never comes back, cross ends with a far larger loss than the "
        f"{_usdt(position.isolated_margin)} isolated margin.",
        favours="cross",
        wallet_balance=10_000.0,
        accounts=accounts,
        prices=prices,
        model=model,
    )


# --------------------------------------------------------------------- isolated (§5)
def high_leverage_short_term(
    *, leverage: float = 50.0, n_paths: int = 400, n_steps: int = 24, seed: int = 44
) -> WhenToUse:
    """A one-day BTC long of 1,000 USDT margin at ``leverage`` in a 10,000 account.

    Isolated caps the loss at the 1,000 margin whatever the day brings; in cross the
    same 50,000 notional has the whole 10,000 behind it and its worst day costs several
    times the margin. The cap has a price: at 50x isolated is liquidated by a 1.6 %
    move, so it is liquidated far more often than cross.
    """
    accounts = _both_modes(
        10_000.0,
        lambda a: a.open("BTCUSDT", side="long", price=60_000, leverage=leverage, margin=1_000),
    )
    paths = PathModel(
        n_paths=n_paths,
        n_steps=n_steps,
        volatility=0.8,
        jump_intensity=50.0,
        jump_mean=-0.06,
        jump_std=0.03,
        seed=seed,
    )
    prices = {"BTCUSDT": paths.paths(60_000.0)}
    isolated = accounts["isolated"]
    margin = isolated.position("BTCUSDT").isolated_margin
    days = _days(n_steps)
    return WhenToUse(
        name="high_leverage_short_term",
        title="A high-leverage, short-term trade",
        claim=f"Isolated caps a {_leverage(leverage)} {days} trade's loss at its {_usdt(margin)} "
        f"margin; in cross the worst {days} path costs several times that.",
        caveat=f"The cap has a price: at {_leverage(leverage)} isolated is liquidated by a "
        f"{_pct(_below(isolated))} move, far more often than cross.",
        favours="isolated",
        wallet_balance=10_000.0,
        accounts=accounts,
        prices=prices,
        model=f"{paths.describe().removesuffix('.')} (the point is the worst day: a crash).",
    )


def several_independent_positions(
    *, correlation: float = 0.3, n_paths: int = 400, n_steps: int = 24 * 30, seed: int = 45
) -> WhenToUse:
    """A BTC long and an ETH long, 2,500 USDT each at 10x, in a 10,000 account, one month.

    Isolated: a liquidation costs that position's 2,500 and never touches the other.
    Cross: the positions share one pool, so a loser can drag the other into one
    liquidation that takes the whole pool. The caveat is the other side of sharing:
    in cross a winner can also carry a loser that isolated would have liquidated.
    """
    accounts = _both_modes(
        10_000.0,
        lambda a: a.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_500).open(
            "ETHUSDT", side="long", price=3_000, leverage=10, margin=2_500
        ),
    )
    paths = PathModel.fair(
        n_paths=n_paths,
        n_steps=n_steps,
        seed=seed,
        correlation=correlation,
        **(CRASHES | {"volatility": {"BTCUSDT": 0.7, "ETHUSDT": 1.0}}),
    )
    prices = paths.joint_paths({"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0})
    margin = accounts["isolated"].position("BTCUSDT").isolated_margin
    return WhenToUse(
        name="several_independent_positions",
        title="Several independent positions",
        claim="Isolated keeps positions independent: a liquidation costs only that position's "
        f"{_usdt(margin)} margin; in cross one loser can take both positions and the whole "
        f"pool ({_usdt(accounts['cross'].wallet_balance)}).",
        caveat="Sharing also buffers: in cross a winning position can carry a loser that "
        "isolated would have liquidated.",
        favours="isolated",
        wallet_balance=10_000.0,
        accounts=accounts,
        prices=prices,
        model=paths.describe(),
    )


def strategy_with_limited_capital(
    *, n_paths: int = 400, n_steps: int = 24 * 7, seed: int = 46
) -> WhenToUse:
    """Testing an untried strategy: a 500 USDT test trade (BTC long, 20x) in a 10,000 account.

    The strategy is wrong on average (the paths drift down). Isolated caps what the test
    can cost at the 500 assigned; cross lets the same trade run on and lose several
    times that. The caveat: a stop-loss limits it too, but a stop is a trigger, not a
    price: a stop 3 % below entry aims to lose 300 (20x × 500 × 3 %), yet it fills where
    the market is, so a gap past it costs more (docs/formulas.md §10).
    """
    accounts = _both_modes(
        10_000.0,
        lambda a: a.open("BTCUSDT", side="long", price=60_000, leverage=20, margin=500),
    )
    paths = PathModel(n_paths=n_paths, n_steps=n_steps, volatility=0.8, drift_rate=-1.0, seed=seed)
    prices = {"BTCUSDT": paths.paths(60_000.0)}
    position = accounts["isolated"].position("BTCUSDT")
    margin, rate = position.isolated_margin, TEST_STOP_RATE
    stop = position.entry_price * (1 - rate)
    aim = position.quantity * (position.entry_price - stop)
    stopped = simulate_paths(accounts["cross"], prices, stops={"BTCUSDT": stop})  # ~2 ms
    worst = float((accounts["cross"].wallet_balance - stopped.final_equity_usdt).max())
    than = "more than" if worst > margin else "less than"
    return WhenToUse(
        name="strategy_with_limited_capital",
        title="Testing a strategy with limited capital",
        claim=f"Isolated caps what a failed test trade can cost at the {_usdt(margin)} "
        "assigned; in cross the same trade can lose several times that.",
        caveat=f"In cross a stop-loss limits it too, less tightly than it seems: a stop "
        f"{_pct(rate)} below entry aims to lose {_usdt(aim)} ({_leverage(position.leverage)} × "
        f"{_usdt(margin)} × {_pct(rate)}), but it fills where the market is, and on these "
        f"hourly paths the worst gap past it cost {_usdt(worst)}, {than} the {_usdt(margin)} "
        "isolated margin.",
        favours="isolated",
        wallet_balance=10_000.0,
        accounts=accounts,
        prices=prices,
        model=(
            f"{paths.describe().removesuffix('.')} (the paths are built to go against the "
            "trade: an untried strategy that is wrong on average)."
        ),
    )


WHEN_TO_USE: dict[str, Callable[..., WhenToUse]] = {
    "hedge": hedge,
    "large_account_small_positions": large_account_small_positions,
    "trend_trade_through_drawdown": trend_trade_through_drawdown,
    "high_leverage_short_term": high_leverage_short_term,
    "several_independent_positions": several_independent_positions,
    "strategy_with_limited_capital": strategy_with_limited_capital,
}
"""Scenario builders by name, in the guide's order (§4 cross, then §5 isolated)."""


def when_to_use(name: str, **options: object) -> WhenToUse:
    """Build the named scenario (see :data:`WHEN_TO_USE`); ``options`` go to its builder.

    >>> scenario = when_to_use("large_account_small_positions", n_paths=50)
    >>> scenario.favours, scenario.prices["BTCUSDT"].shape
    ('cross', (50, 720))
    """
    if name not in WHEN_TO_USE:
        raise MarginError(f"name must be one of {', '.join(WHEN_TO_USE)}, got {name!r}")
    return WHEN_TO_USE[name](**options)
