"""Loss at liquidation: per margin mode, how much of the wallet is lost and how much kept.

One horizontal bar per mode, the wallet split into "lost" (solid, the mode's colour)
and "kept" (pale, the mode's colour). The guide's example: isolated loses its 2,000 USDT
margin and keeps 8,000; cross loses the whole 10,000.

Trace keys (``meta``): lost-cross, kept-cross, lost-isolated, kept-isolated.
"""

from __future__ import annotations

import plotly.graph_objects as go

from marginlab.charts import format as fmt
from marginlab.charts import palette
from marginlab.charts._common import Chart, TraceData, apply, base_layout, build, points, scalar

NAME = "loss_at_liquidation"
TITLE = "What liquidation costs: Cross vs Isolated"
MODES = ("isolated", "cross")  # top to bottom


def _traces() -> list[TraceData]:
    traces = []
    for mode in MODES:
        color = palette.MODE_COLORS[mode]
        label = palette.MODE_NAMES[mode]
        for part, fill in (("lost", color), ("kept", palette.with_alpha(color, 0.25))):
            traces.append(
                {
                    "type": "bar",
                    "meta": f"{part}-{mode}",
                    "orientation": "h",
                    "name": f"{label}: {part}",
                    "legendgroup": mode,
                    "y": [label],
                    "marker": {"color": fill, "line": {"color": color, "width": 2}},
                    "textposition": "inside",
                    "textangle": 0,
                    "insidetextanchor": "middle",
                    "textfont": {"color": "white" if part == "lost" else palette.BLACK},
                    "hovertemplate": f"{label}, {part}: %{{x:,.2f}} USDT<extra></extra>",
                }
            )
    return traces


def _check_loss(value: float, name: str, wallet: float) -> float:
    loss = scalar(value, name)
    tolerance = 1e-9 * max(wallet, 1.0)  # float dust from wallet − kept
    if not -tolerance <= loss <= wallet + tolerance:
        raise ValueError(
            f"{name} must be between 0 and wallet_balance_usdt ({fmt.usdt(wallet)}), got {value!r}"
        )
    return min(max(loss, 0.0), wallet)


def _clause(mode: str, loss: float, kept: float, liquidated: bool) -> str:
    if liquidated:
        return f"{mode} liquidation loses {fmt.usdt(loss)} and keeps {fmt.usdt(kept)}"
    return f"{mode} is not liquidated (down {fmt.usdt(loss)}, {fmt.usdt(kept)} left)"


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
        raise ValueError(f"wallet_balance_usdt must be 0 or more, got {wallet_balance_usdt!r}")
    loss = {
        "cross": _check_loss(cross_loss_usdt, "cross_loss_usdt", wallet),
        "isolated": _check_loss(isolated_loss_usdt, "isolated_loss_usdt", wallet),
    }
    liquidated = {"cross": bool(cross_liquidated), "isolated": bool(isolated_liquidated)}
    traces = []
    for mode in MODES:
        kept = wallet - loss[mode]
        lost_word = "lost" if liquidated[mode] else "down"
        traces.append({"x": points([loss[mode]]), "text": [f"{lost_word} {fmt.price(loss[mode])}"]})
        traces.append({"x": points([kept]), "text": [f"kept {fmt.price(kept)}"]})
    clauses = "; ".join(
        _clause(mode, loss[mode], wallet - loss[mode], liquidated[mode]) for mode in MODES
    )
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
    of a position still open ("down ...") instead.

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
