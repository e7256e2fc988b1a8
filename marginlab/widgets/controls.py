"""The controls every lesson widget is built from: one look, one range, one format.

Leverage, amounts of USDT (a position's size, its margin, the wallet), prices, side and
margin mode, buttons and choices. A widget asks for them here, so the same concept moves
the same way in every lesson: leverage 1x to 125x in steps of 1, USDT and prices with
thousands separators, the same description width and control width. Sliders follow the
drag (``continuous_update``); text boxes tick on Enter.

``order_controls`` is the exchange's order form used by the same-trade widgets: the
position's size in USDT (``notional``), ``leverage``, the ``balance`` it is placed from,
and ``side``; the margin follows as notional / leverage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets

from marginlab.engine import MODES
from marginlab.scenarios import Trade

STYLE = {"description_width": "initial"}
CONTROL_WIDTH = "420px"  # each control gets its own Layout (shared Layouts hide together)
LEVERAGE_RANGE = (1, 125)  # x: what the sliders offer (the brackets may allow less)
NOTIONAL_RANGE = (1_000.0, 500_000.0, 1_000.0)  # USDT: low, high, step
BALANCE_RANGE = (500.0, 50_000.0, 500.0)  # USDT


def _layout(width: str = CONTROL_WIDTH) -> ipywidgets.Layout:
    return ipywidgets.Layout(width=width)


def _number(kind: type, value: float, description: str, **settings: Any) -> Any:
    """A number control of the shared look: its description, style and width."""
    look = {"description": description, "style": STYLE, "layout": _layout()}
    return kind(value=value, **look, **settings)


def leverage_slider(value: float, description: str = "Leverage (x)") -> ipywidgets.IntSlider:
    """The shared leverage control: 1x to 125x in steps of 1."""
    low, high = LEVERAGE_RANGE
    bounds = {"min": low, "max": high, "step": 1, "readout_format": "d"}
    return _number(ipywidgets.IntSlider, round(value), description, **bounds)


def usdt_slider(
    value: float, low: float, high: float, step: float, description: str
) -> ipywidgets.FloatSlider:
    """An amount of USDT (a size, a margin, a balance, a top-up) or a price in USDT."""
    bounds = {"min": low, "max": high, "step": step, "readout_format": ",.0f"}
    return _number(ipywidgets.FloatSlider, value, description, **bounds)


price_slider = usdt_slider  # a mark price in USDT: the same control


def int_slider(
    value: int, low: int, high: int, description: str, *, continuous: bool = True
) -> ipywidgets.IntSlider:
    """A whole number (a path, a step, a day)."""
    bounds = {"min": low, "max": high, "continuous_update": continuous}
    return _number(ipywidgets.IntSlider, value, description, **bounds)


def number_box(value: float, description: str, step: float) -> ipywidgets.FloatText:
    """A number typed in (ticks on Enter or leaving the box, not per keystroke)."""
    return _number(ipywidgets.FloatText, value, description, step=step, continuous_update=False)


def toggle(options: Sequence[Any], value: Any, description: str) -> ipywidgets.ToggleButtons:
    """ToggleButtons such as side (long/short) or mode (cross/isolated); ``options`` may be
    values or (label, value) pairs."""
    return ipywidgets.ToggleButtons(
        options=list(options),
        value=value,
        description=description,
        style={**STYLE, "button_width": "90px"},
    )


def side_toggle(value: str = "long") -> ipywidgets.ToggleButtons:
    return toggle(("long", "short"), value, "Side")


def mode_toggle(
    value: str = "isolated", description: str = "Margin mode"
) -> ipywidgets.ToggleButtons:
    return toggle([(m.value.capitalize(), m.value) for m in MODES], value, description)


def dropdown(
    options: Sequence[Any], value: Any, description: str, width: str = "32em"
) -> ipywidgets.Dropdown:
    """A choice from a list; ``options`` may be values or (label, value) pairs."""
    return ipywidgets.Dropdown(
        options=list(options),
        value=value,
        description=description,
        style=STYLE,
        layout=_layout(width),
    )


def checkbox(value: bool, description: str) -> ipywidgets.Checkbox:
    return ipywidgets.Checkbox(value=value, description=description, indent=False, style=STYLE)


def button(description: str, tooltip: str) -> ipywidgets.Button:
    """A push button with a tooltip that says what it does."""
    return ipywidgets.Button(description=description, tooltip=tooltip)


def order_controls(trade: Trade) -> dict[str, ipywidgets.Widget]:
    """The order form of the same-trade widgets, set to ``trade``: its size (USDT,
    ``notional``), ``leverage``, the wallet (``balance``) and ``side``."""
    return {
        "notional": usdt_slider(trade.notional, *NOTIONAL_RANGE, "Position size (USDT)"),
        "leverage": leverage_slider(trade.leverage),
        "balance": usdt_slider(trade.wallet_balance, *BALANCE_RANGE, "Wallet (USDT)"),
        "side": side_toggle(trade.side),
    }
