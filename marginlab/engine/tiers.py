"""Maintenance-margin brackets (leverage tiers) per symbol.

Maintenance margin is ``notional × maintenance_rate − maintenance_amount`` with the
rate and amount of the bracket the notional falls in. The amount ("cum") makes the
function continuous across bracket edges, like income-tax brackets:
``cum_n = floor_n × (rate_n − rate_{n−1}) + cum_{n−1}``. Leverage never enters the
maintenance margin; a bracket only caps the leverage.

The tables ship as package data with their source and date (see ``SOURCE`` and
``DATE`` on each table): Binance USDⓈ-M brackets of 2026-09-29 as shipped in
freqtrade 2026.9 (docs/formulas.md §4).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import numpy as np

from marginlab.engine import _validate
from marginlab.engine.errors import MarginError

_DATA_FILE = "brackets_2026-09-29.json"


@dataclass(frozen=True)
class Tier:
    """One bracket: floor <= notional < cap (USDT), its max leverage and maintenance terms."""

    bracket: int
    floor: float
    cap: float
    max_leverage: float
    maintenance_rate: float
    maintenance_amount: float

    def maintenance_margin(self, notional_usdt: float) -> float:
        """Maintenance margin in USDT of a position of this notional in this bracket."""
        return notional_usdt * self.maintenance_rate - self.maintenance_amount


@dataclass(frozen=True)
class TierTable:
    """The brackets of one symbol, sorted by floor, with where they came from."""

    symbol: str
    tiers: tuple[Tier, ...]
    source: str
    date: str

    def __post_init__(self) -> None:
        for below, above in zip(self.tiers, self.tiers[1:], strict=False):
            if below.cap != above.floor:
                raise MarginError(f"{self.symbol}: bracket {below.bracket} cap != next floor")
            expected = above.floor * (above.maintenance_rate - below.maintenance_rate)
            if abs(below.maintenance_amount + expected - above.maintenance_amount) > 1e-6:
                raise MarginError(
                    f"{self.symbol}: bracket {above.bracket} maintenance_amount breaks continuity"
                )

    @property
    def max_notional(self) -> float:
        """The cap of the last bracket, in USDT: no position may be larger."""
        return self.tiers[-1].cap

    def lookup(self, notional_usdt: float) -> Tier:
        """The bracket with floor <= notional < cap (floor-inclusive, as the API data).

        Raises MarginError for a negative notional or one above the last cap.

        >>> load_tiers("BTCUSDT").lookup(20_000).maintenance_rate
        0.004
        >>> load_tiers("BTCUSDT").lookup(300_000).bracket
        2
        """
        notional = _validate.non_negative(notional_usdt, "notional_usdt", " USDT")
        for tier in self.tiers:
            if notional < tier.cap:
                return tier
        if notional == self.max_notional:
            return self.tiers[-1]
        raise MarginError(
            f"notional_usdt must be at most {self.max_notional:,.0f} USDT for {self.symbol}, "
            f"got {notional:,.2f}"
        )

    def maintenance_margin(self, notional_usdt: float) -> float:
        """Maintenance margin (USDT) for a notional, continuous across brackets.

        >>> round(load_tiers("BTCUSDT").maintenance_margin(400_000), 2)  # 400,000 × 0.5 % − 300
        1700.0
        """
        return self.lookup(notional_usdt).maintenance_margin(notional_usdt)

    def max_leverage(self, notional_usdt: float) -> float:
        """The highest leverage allowed for a position of this notional."""
        return self.lookup(notional_usdt).max_leverage

    def arrays(self) -> dict[str, np.ndarray]:
        """The table as read-only numpy columns (floor, cap, max_leverage, rate, amount).

        Built once per table: every slider tick asks for them.
        """
        return self._columns

    @cached_property
    def _columns(self) -> dict[str, np.ndarray]:
        columns = {
            "floor": np.array([t.floor for t in self.tiers]),
            "cap": np.array([t.cap for t in self.tiers]),
            "max_leverage": np.array([t.max_leverage for t in self.tiers]),
            "maintenance_rate": np.array([t.maintenance_rate for t in self.tiers]),
            "maintenance_amount": np.array([t.maintenance_amount for t in self.tiers]),
        }
        for column in columns.values():
            column.flags.writeable = False
        return columns

    def maintenance_terms(self, notional_usdt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorized bracket lookup: (maintenance_rate, maintenance_amount) per notional.

        Notionals above the last cap get the last bracket (callers validate sizes).
        """
        cols = self.arrays()
        index = np.searchsorted(cols["cap"], np.asarray(notional_usdt, dtype=float), side="right")
        index = np.minimum(index, len(self.tiers) - 1)
        return cols["maintenance_rate"][index], cols["maintenance_amount"][index]


def available_symbols() -> tuple[str, ...]:
    """Symbols with a shipped bracket table."""
    return tuple(sorted(_load_file()["symbols"]))


@cache
def _load_file() -> dict:
    text = resources.files("marginlab.engine").joinpath("data", _DATA_FILE).read_text("utf-8")
    return json.loads(text)


@cache
def load_tiers(symbol: str) -> TierTable:
    """The shipped bracket table of a symbol such as "BTCUSDT".

    >>> table = load_tiers("BTCUSDT")
    >>> table.date, len(table.tiers), table.tiers[0].max_leverage
    ('2026-09-29', 12, 150.0)
    """
    name = _validate.symbol(symbol)
    data = _load_file()
    if name not in data["symbols"]:
        known = ", ".join(sorted(data["symbols"]))
        raise MarginError(f"symbol must be one of {known}, got {symbol!r}")
    tiers = tuple(
        Tier(
            bracket=i + 1,
            floor=float(row["floor"]),
            cap=float(row["cap"]),
            max_leverage=float(row["max_leverage"]),
            maintenance_rate=float(row["maintenance_rate"]),
            maintenance_amount=float(row["maintenance_amount"]),
        )
        for i, row in enumerate(data["symbols"][name])
    )
    return TierTable(symbol=name, tiers=tiers, source=data["source"], date=data["date"])
