"""The two enums of the model: position side and margin mode.

One sign convention everywhere: ``Side.LONG.sign == +1``, ``Side.SHORT.sign == -1``,
so a formula is written once with ``sign`` instead of twice.
"""

from __future__ import annotations

from enum import StrEnum

from marginlab.engine.errors import MarginError


class Side(StrEnum):
    """Direction of a position."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        """+1 for long, -1 for short."""
        return 1 if self is Side.LONG else -1

    @property
    def opposite(self) -> Side:
        return Side.SHORT if self is Side.LONG else Side.LONG

    @classmethod
    def parse(cls, value: object, name: str = "side") -> Side:
        """Side from "long"/"short" (any case) or a Side; MarginError names the parameter."""
        if isinstance(value, Side):
            return value
        if isinstance(value, str) and value.strip().lower() in ("long", "short"):
            return cls(value.strip().lower())
        raise MarginError(f"{name} must be 'long' or 'short', got {value!r}")


class MarginMode(StrEnum):
    """How margin backs a position: its own (isolated) or the shared pool (cross)."""

    CROSS = "cross"
    ISOLATED = "isolated"

    @classmethod
    def parse(cls, value: object, name: str = "mode") -> MarginMode:
        """MarginMode from "cross"/"isolated" (any case) or a MarginMode."""
        if isinstance(value, MarginMode):
            return value
        if isinstance(value, str) and value.strip().lower() in ("cross", "isolated"):
            return cls(value.strip().lower())
        raise MarginError(f"{name} must be 'cross' or 'isolated', got {value!r}")


MODES: tuple[MarginMode, ...] = tuple(MarginMode)
"""Both margin modes, cross first: the one order every comparison uses (``MarginMode`` is a
``StrEnum``, so ``mapping["cross"]`` finds the ``MarginMode.CROSS`` key)."""
