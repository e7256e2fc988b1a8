"""The two enums of the model: position side and margin mode.

One sign convention everywhere: ``Side.LONG.sign == +1``, ``Side.SHORT.sign == -1``,
so a formula is written once with ``sign`` instead of twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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
        return _parse(cls, value, name)


class MarginMode(StrEnum):
    """How margin backs a position: its own (isolated) or the shared pool (cross)."""

    CROSS = "cross"
    ISOLATED = "isolated"

    @classmethod
    def parse(cls, value: object, name: str = "mode") -> MarginMode:
        """MarginMode from "cross"/"isolated" (any case) or a MarginMode."""
        return _parse(cls, value, name)


def _parse(enum: type[StrEnum], value: object, name: str) -> Any:
    """A member of ``enum`` from itself or its value in any case; a MarginError naming
    ``name`` and the values allowed otherwise."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str) and value.strip().lower() in {m.value for m in enum}:
        return enum(value.strip().lower())
    allowed = " or ".join(f"'{m.value}'" for m in enum)
    raise MarginError(f"{name} must be {allowed}, got {value!r}")


MODES: tuple[MarginMode, ...] = tuple(MarginMode)
"""Both margin modes, cross first: the one order every comparison uses (``MarginMode`` is a
``StrEnum``, so ``mapping["cross"]`` finds the ``MarginMode.CROSS`` key)."""
