"""Loss at liquidation: per margin mode, how much of the wallet is lost and how much kept.

One horizontal bar per mode, the wallet split into "lost" (solid, the mode's colour)
and "kept" (pale, the mode's colour). The guide's example: isolated loses its 2,000 USDT
margin and keeps 8,000; cross loses the whole 10,000. A negative loss is a gain: the
whole wallet is kept and the gain ("up", pale and hatched) extends the bar past it.

Trace keys (``meta``): lost-cross, kept-cross, gain-cross, lost-isolated, kept-isolated,
gain-isolated.
"""

from __future__ import annotations

import plotly.graph_objects as go

from marginlab.charts import format as fmt
from marginlab.charts import palette
from marginlab.charts._common import Chart, TraceData, apply, base_layout, build, points, scalar
from marginlab.engine.errors import MarginError

NAME = "loss_at_liquidation"
TITLE = "What liquidation costs: Cross vs Isolated"
MODES = ("isolated", "cross")  # top to bottom


def _traces() -> list[TraceData]:
    traces = []
    for mode in MODES:
        color = palette.MODE_COLORS[mode]
        label = palette.MODE_NAMES[mode]
        pale = palette.with_alpha(color, 0.25)
        for part, fill, text_color in (
            ("lost", color, "white"),
            ("kept", pale, palette.BLACK),
            ("gain", pale, palette.BLACK),
        ):
            marker: TraceData = {"color": fill, "line": {"color": color, "width": 2}}
            if part == "gain":  # the same pale fill, told apart by hatching
                marker["pattern"] = {"shape": "/", "fgcolor": color, "solidity": 0.15}
            traces.append(
                {
                    "type": "bar",
                    "meta": f"{part}-{mode}",
                    "orientation": "h",
                    "name": f"{label}: {part}",
                    "legendgroup": mode,
                    "y": [label],
                    "marker": marker,
                    "textposition": "inside",
                    "textangle": 0,
                    "insidetextanchor": "middle",
                    "textfont": {"color": text_color},
                    "hovertemplate": f"{label}, {part}: %{{x:,.2f}} USDT<extra></extra>",
                }
            )
    return traces


def _check_loss(value: float, name: str, wallet: float) -> float:
    """The loss in USDT: at most the wallet (float dust above it is clipped); negative is
    a gain."""
    loss = scalar(value, name)
    tolerance = 1e-9 * max(wallet, 1.0)  # float dust from wallet − kept
    if loss > wallet + tolerance:
        raise MarginError(
            f"{name} must be at most wallet_balance_usdt ({fmt.usdt(wallet)}; a negative loss "
            f"is a gain), got {value!r}"
        )
    return min(loss, wallet)


def _clause(mode: str, loss: float, liquidated: bool, wallet: float) -> str:
    left = fmt.usdt(wallet - loss)
    if liquidated:
        verb = f"loses {fmt.usdt(loss)}" if loss >= 0 else f"is up {fmt.usdt(-loss)}"
        return f"{mode} liquidation {verb} and keeps {left}"
    if loss >= 0:
        return f"{mode} is not liquidated (down {fmt.usdt(loss)}, {left} left)"
    return f"{mode} is not liquidated (up {fmt.usdt(-loss)}, {left} in all)"


def _data(
    *,
    wallet_balance_usdt: float,
    cross_loss_usdt: float,
    isolated_loss_usdt: float,
    cross_liquidated: bool = True,
    isolated_liquidated: bool = True,
) -> tuple[list[TraceData], str]:
    wallet = scalar(wallet_balance_usdt, "wallet_balance_usdt")
    if wallet < 0:
        raise MarginError(f"wallet_balance_usdt must be 0 or more, got {wallet_balance_usdt!r}")
    loss = {
        "cross": _check_loss(cross_loss_usdt, "cross_loss_usdt", wallet),
        "isolated": _check_loss(isolated_loss_usdt, "isolated_loss_usdt", wallet),
    }
    liquidated = {"cross": bool(cross_liquidated), "isolated": bool(isolated_liquidated)}
    traces = []
    for mode in MODES:
        lost, gain = max(loss[mode], 0.0), max(-loss[mode], 0.0)
        lost_word = "lost" if liquidated[mode] else "down"
        traces += [
            {"x": points([lost]), "text": [f"{lost_word} {fmt.price(lost)}" if lost else ""]},
            {"x": points([wallet - lost]), "text": [f"kept {fmt.price(wallet - lost)}"]},
            {"x": points([gain]), "text": [f"up {fmt.price(gain)}" if gain else ""]},
        ]
    clauses = "; ".join(_clause(mode, loss[mode], liquidated[mode], wallet) for mode in MODES)
    return traces, f"From a {fmt.usdt(wallet)} wallet, {clauses}."


def loss_at_liquidation_figure(
    *,
    wallet_balance_usdt: float,
    cross_loss_usdt: float,
    isolated_loss_usdt: float,
    cross_liquidated: bool = True,
    isolated_liquidated: bool = True,
    title: str | None = TITLE,
) -> Chart:
    """Lost vs kept per mode, in USDT, out of ``wallet_balance_usdt``.

    A loss is what the wallet gave up (the engine's ``LiquidationOutcome.loss_usdt``);
    kept = wallet − loss. With ``<mode>_liquidated=False`` the bar shows a running loss
    of a position still open ("down ...") instead; a negative loss is a gain ("up ...",
    e.g. the mark above a long's entry): the wallet is kept whole and the gain is drawn
    past it. A loss is at most the wallet.

    >>> chart = loss_at_liquidation_figure(wallet_balance_usdt=10_000, cross_loss_usdt=10_000,
    ...     isolated_loss_usdt=2_000)
    >>> for clause in chart.summary.split("; "):
    ...     print(clause)
    From a 10,000.00 USDT wallet, isolated liquidation loses 2,000.00 USDT and keeps 8,000.00 USDT
    cross liquidation loses 10,000.00 USDT and keeps 0.00 USDT.
    """
    traces, summary = _data(
        wallet_balance_usdt=wallet_balance_usdt,
        cross_loss_usdt=cross_loss_usdt,
        isolated_loss_usdt=isolated_loss_usdt,
        cross_liquidated=cross_liquidated,
        isolated_liquidated=isolated_liquidated,
    )
    layout = base_layout(
        NAME,
        title,
        barmode="stack",
        height=320,
        showlegend=False,  # the bars are labelled and the axis names the modes
        uniformtext={"minsize": 12, "mode": "hide"},  # no unreadable labels in thin bars
        xaxis={"title": {"text": "USDT"}, "tickformat": ",.0f", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "fixedrange": True},
        hovermode="closest",
    )
    return Chart(build(NAME, _traces(), traces, layout), summary)


def update_loss_at_liquidation(
    fig: go.Figure,
    *,
    wallet_balance_usdt: float,
    cross_loss_usdt: float,
    isolated_loss_usdt: float,
    cross_liquidated: bool = True,
    isolated_liquidated: bool = True,
) -> str:
    """Write new amounts into a figure from :func:`loss_at_liquidation_figure`."""
    traces, summary = _data(
        wallet_balance_usdt=wallet_balance_usdt,
        cross_loss_usdt=cross_loss_usdt,
        isolated_loss_usdt=isolated_loss_usdt,
        cross_liquidated=cross_liquidated,
        isolated_liquidated=isolated_liquidated,
    )
    apply(fig, NAME, traces)
    return summary
