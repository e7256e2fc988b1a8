"""Errors the engine raises. Every message names the parameter, the value and the rule."""


class MarginError(ValueError):
    """An operation the exchange rules refuse (the account is left unchanged)."""


class ModeSwitchError(MarginError):
    """Switching a symbol's margin mode while it has an open position."""


class InsufficientMarginError(MarginError):
    """The initial margin (or a margin transfer) exceeds what is available."""


class BracketError(MarginError):
    """An order larger than the brackets allow, or at more leverage than its bracket's
    maximum (docs/formulas.md §4): the exchange refuses it as placed."""
