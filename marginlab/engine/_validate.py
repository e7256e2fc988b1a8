"""Input checks shared by the engine: each raises with the parameter's name and range."""

from __future__ import annotations

import math
import numbers

from marginlab.engine.errors import MarginError


def number(value: object, name: str) -> float:
    """A real, finite number as float; TypeError for non-numbers, MarginError for NaN/inf."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise MarginError(f"{name} must be a finite number, got {value!r}")
    return result


def positive(value: object, name: str, unit: str = "") -> float:
    """A finite number > 0."""
    result = number(value, name)
    if result <= 0:
        raise MarginError(f"{name} must be greater than 0{unit}, got {value!r}")
    return result


def non_negative(value: object, name: str, unit: str = "") -> float:
    """A finite number >= 0."""
    result = number(value, name)
    if result < 0:
        raise MarginError(f"{name} must be 0 or more{unit}, got {value!r}")
    return result


def in_range(value: object, name: str, low: float, high: float, unit: str = "") -> float:
    """A finite number with low <= value <= high."""
    result = number(value, name)
    if not low <= result <= high:
        raise MarginError(f"{name} must be between {low:g} and {high:g}{unit}, got {value!r}")
    return result


def symbol(value: object) -> str:
    """A trading pair name such as "BTCUSDT" (upper-cased)."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"symbol must be a non-empty string such as 'BTCUSDT', got {value!r}")
    return value.strip().upper()
