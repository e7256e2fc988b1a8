"""What every chart shares: palette, formats, layout, and the in-place update contract.

Each chart is built from one set of inputs, then updated with a second; the updated
figure must hold exactly the traces a fresh build from the second inputs holds (the
figure and the update share one computation), in a plain Figure and a FigureWidget.
"""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from marginlab import charts
from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.engine import Account
from marginlab.scenarios import GUIDE, guide_account, two_positions_account

NAN = float("nan")


def _ladder(mark: float, stop: float | None, cross_wallet_usdt: float = 10_000) -> dict:
    cross = Account(wallet_balance=cross_wallet_usdt).open(
        "BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000
    )
    return {
        "entry_price": GUIDE.entry_price,
        "mark_price": mark,
        "cross_liquidation_price": cross.liquidation_price("BTCUSDT"),  # NaN above 20,000
        "isolated_liquidation_price": guide_account("isolated").liquidation_price("BTCUSDT"),
        "cross_bankruptcy_price": 60_000 - 3 * cross_wallet_usdt,
        "isolated_bankruptcy_price": 54_000.0,
        "stop_price": stop,
    }


def _map(mark_btc: float) -> dict:
    account = two_positions_account("cross")
    xs, ys = np.array([40_000.0, 60_000.0, 80_000.0]), np.array([2_000.0, 3_000.0, 6_000.0])
    ratio = [
        [account.state({"BTCUSDT": x, "ETHUSDT": y}).cross_margin_ratio for x in xs] for y in ys
    ]
    marks = {"BTCUSDT": mark_btc, "ETHUSDT": 3_000.0}
    return {
        "x_price_grid": xs,
        "y_price_grid": ys,
        "margin_ratio_grid": np.array(ratio),
        "x_mark_price": mark_btc,
        "y_mark_price": 3_000.0,
        "margin_ratio": account.state(marks).cross_margin_ratio,
        "x_isolated_liquidation_price": 54_216.87,
        "y_isolated_liquidation_price": 3_286.85,
    }


# name -> (builder, updater, first inputs, second inputs)
CASES = {
    "price_ladder": (
        charts.price_ladder_figure,
        charts.update_price_ladder,
        _ladder(60_000, None),
        _ladder(56_000, 57_000, cross_wallet_usdt=30_000),
    ),
    "loss_at_liquidation": (
        charts.loss_at_liquidation_figure,
        charts.update_loss_at_liquidation,
        {"wallet_balance_usdt": 10_000, "cross_loss_usdt": 10_000, "isolated_loss_usdt": 2_000},
        {
            "wallet_balance_usdt": 12_000,
            "cross_loss_usdt": 1_500,
            "isolated_loss_usdt": 2_000,
            "cross_liquidated": False,
        },
    ),
    "liquidation_distance": (
        charts.liquidation_distance_figure,
        charts.update_liquidation_distance,
        {
            "leverage": [5.0, 10.0, 20.0],
            "cross_distance_rate": [NAN, 0.498, 0.247],
            "isolated_distance_rate": [0.197, 0.0964, 0.0462],
            "current_leverage": 10.0,
            "current_cross_distance_rate": 0.498,
            "current_isolated_distance_rate": 0.0964,
        },
        {
            "leverage": [5.0, 10.0, 20.0, 40.0],
            "cross_distance_rate": [0.9, 0.45, 0.22, 0.11],
            "isolated_distance_rate": [0.197, 0.0964, 0.0462, 0.021],
            "current_leverage": 20.0,
            "current_cross_distance_rate": 0.22,
            "current_isolated_distance_rate": 0.0462,
        },
    ),
    "equity_path": (
        charts.equity_path_figure,
        charts.update_equity_path,
        {
            "steps": [0, 1, 2],
            "cross_equity_usdt": [10_000, 9_000, 8_000],
            "isolated_equity_usdt": [10_000, 9_000, 8_000],
            "cross_margin_ratio": [0.01, 0.02, 0.03],
            "isolated_margin_ratio": [0.04, 0.5, 1.2],
            "isolated_liquidated_at": 2,
        },
        {
            "steps": [0, 1, 2, 3],
            "cross_equity_usdt": [10_000, 9_500, 9_000, 9_200],
            "isolated_equity_usdt": [10_000, 9_500, 9_400, 9_400],
            "cross_margin_ratio": [0.01, 0.015, 0.02, 0.018],
            "isolated_margin_ratio": [0.04, 0.3, NAN, NAN],
            "isolated_stopped_at": 2,
        },
    ),
    "cross_map": (charts.cross_map_figure, charts.update_cross_map, _map(60_000), _map(45_000)),
    "outcomes": (
        charts.outcomes_figure,
        charts.update_outcomes,
        {
            "cross_final_equity_usdt": [0, 10_000, 12_000],
            "isolated_final_equity_usdt": [8_000, 10_000, 12_000],
            "cross_liquidation_probability": 1 / 3,
            "isolated_liquidation_probability": 1 / 3,
        },
        {
            "cross_final_equity_usdt": [0, 0, 11_000],
            "isolated_final_equity_usdt": [8_000, 8_000, 11_000],
            "cross_liquidation_probability": 2 / 3,
            "isolated_liquidation_probability": 2 / 3,
            "isolated_stop_final_equity_usdt": [9_000, 9_000, 11_000],
            "isolated_stop_liquidation_probability": 0.0,
            "initial_equity_usdt": 10_000,
        },
    ),
}


def _trace_data(fig) -> list[dict]:
    """The figure's traces as JSON (numpy arrays decoded), without widget uids."""
    data = json.loads(pio.to_json(go.Figure(fig), engine="json"))["data"]
    for trace in data:
        trace.pop("uid", None)
    return data


def _colors(trace) -> set[str]:
    found = set()
    for getter in (
        lambda t: t.line.color,
        lambda t: t.marker.color,
        lambda t: t.marker.line.color,
    ):
        try:
            value = getter(trace)
        except AttributeError:
            continue
        if isinstance(value, str):
            found.add(value)
    return found


@pytest.mark.parametrize("name", CASES)
def test_chart_update_equals_fresh_build_in_figure(name):
    build, update, first, second = CASES[name]
    chart = build(**first)
    fig, count = chart.figure, len(chart.figure.data)
    summary = update(fig, **second)
    fresh = build(**second)
    assert summary == fresh.summary != chart.summary
    assert fig is chart.figure and len(fig.data) == count
    assert _trace_data(fig) == _trace_data(fresh.figure)
    # And back: nothing of the second inputs may linger (e.g. a hidden trace's data).
    assert update(fig, **first) == chart.summary
    assert _trace_data(fig) == _trace_data(build(**first).figure)
    assert _trace_data(fig) != _trace_data(fresh.figure)


@pytest.mark.parametrize("name", CASES)
def test_chart_update_equals_fresh_build_in_figure_widget(name):
    build, update, first, second = CASES[name]
    widget = go.FigureWidget(build(**first).figure)
    summary = update(widget, **second)
    assert summary == build(**second).summary
    assert _trace_data(widget) == _trace_data(build(**second).figure)
    update(widget, **first)
    assert _trace_data(widget) == _trace_data(build(**first).figure)


def _json_strict(value) -> str:
    """JSON as Jupyter sends it: NaN is not allowed (binary buffers stand in as text)."""
    return json.dumps(value, allow_nan=False, default=lambda buffer: "<buffer>")


@pytest.mark.parametrize("name", CASES)
def test_chart_widget_messages_carry_no_nan(name):
    build, update, first, second = CASES[name]
    widget = go.FigureWidget(build(**first).figure)
    _json_strict(widget.get_state())  # what the widget sends when it is created
    sent = []
    send = widget.comm.send
    widget.comm.send = lambda data=None, metadata=None, buffers=None: (
        sent.append(data) or send(data=data, metadata=metadata, buffers=buffers)
    )
    update(widget, **second)
    update(widget, **first)
    assert sent  # the updates did send something
    for message in sent:
        _json_strict(message)


@pytest.mark.parametrize("name", CASES)
def test_chart_update_leaves_layout_untouched(name):
    build, update, first, second = CASES[name]
    fig = build(**first).figure
    before = fig.layout.to_plotly_json()
    update(fig, **second)
    assert fig.layout.to_plotly_json() == before


@pytest.mark.parametrize("name", CASES)
def test_chart_layout_uses_shared_theme(name):
    build, _, first, _ = CASES[name]
    layout = build(**first).figure.layout
    assert layout.template == _common.TEMPLATE
    assert layout.uirevision == name
    assert layout.meta["chart"] == name
    assert layout.font.size >= 14


def test_chart_template_is_plotly_white_for_2d_axes_and_chart_trace_types():
    white = pio.templates["plotly_white"].to_plotly_json()
    ours = _common.TEMPLATE.to_plotly_json()
    # Every layout default kept as plotly_white has it; only other subplot kinds and the
    # colour scales are left out.
    dropped = set(white["layout"]) - set(ours["layout"])
    assert dropped == {"geo", "polar", "scene", "ternary", "colorscale"}
    assert all(ours["layout"][key] == white["layout"][key] for key in ours["layout"])
    assert set(ours["data"]) == {"scatter", "bar", "contour"}
    for kind, specs in ours["data"].items():
        expected = [
            {k: v for k, v in spec.items() if k != "colorscale"} for spec in white["data"][kind]
        ]
        assert specs == expected, kind


@pytest.mark.parametrize("name", CASES)
def test_chart_traces_use_template_types_and_own_colour_scales(name):
    build, _, first, _ = CASES[name]
    for trace in build(**first).figure.data:
        assert trace.type in _common.TRACE_TYPES, trace.meta
        if trace.type == "contour":  # the template carries no colour scale for it
            assert trace.colorscale is not None, trace.meta


@pytest.mark.parametrize("name", CASES)
def test_chart_traces_have_unique_keys(name):
    build, _, first, _ = CASES[name]
    keys = [trace.meta for trace in build(**first).figure.data]
    assert all(isinstance(key, str) for key in keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", CASES)
def test_chart_cross_and_isolated_always_use_their_colours(name):
    build, _, first, _ = CASES[name]
    traces = build(**first).figure.data
    groups = {trace.legendgroup for trace in traces}
    assert {"cross", "isolated"} <= groups
    for trace in traces:
        colours = _colors(trace)
        if trace.type == "contour":
            colours = {trace.line.color}
        if trace.legendgroup in palette.MODE_COLORS:
            assert palette.MODE_COLORS[trace.legendgroup] in colours, trace.meta
            assert trace.name.startswith(palette.MODE_NAMES[trace.legendgroup]), trace.meta
        else:
            assert not colours & {palette.CROSS, palette.ISOLATED}, trace.meta


@pytest.mark.parametrize("name", CASES)
def test_chart_update_on_foreign_figure_raises(name):
    _, update, _, second = CASES[name]
    other = next(n for n in CASES if n != name)
    with pytest.raises(ValueError, match=f"{name}_figure"):
        update(CASES[other][0](**CASES[other][2]).figure, **second)


def test_chart_update_on_non_figure_raises_type_error():
    with pytest.raises(TypeError, match="fig must be a plotly Figure"):
        charts.update_price_ladder({"data": []}, **_ladder(60_000, None))


def test_find_trace_unknown_key_lists_keys():
    fig = charts.price_ladder_figure(**_ladder(60_000, None)).figure
    with pytest.raises(KeyError, match="liquidation-cross"):
        charts.find_trace(fig, "liquidation")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (54_216.867, "54,216.87 USDT"),
        (0.004, "0.00 USDT"),
        (-0.004, "0.00 USDT"),
        (-1_234_567.891, "-1,234,567.89 USDT"),
        (NAN, "--"),
    ],
    ids=["guide-price", "rounds-down", "no-negative-zero", "millions", "nan"],
)
def test_format_usdt_thousands_and_two_decimals(value, text):
    assert fmt.usdt(value) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [(0.096385542, "9.64%"), (0.0, "0.00%"), (1.0, "100.00%"), (float("inf"), "∞%"), (NAN, "--")],
    ids=["guide-distance", "zero", "liquidation", "infinite", "nan"],
)
def test_format_percent_of_fraction_two_decimals(rate, text):
    assert fmt.percent(rate) == text


def test_format_price_and_leverage():
    assert fmt.price(30_120.481927) == "30,120.48"
    assert fmt.leverage(10.0) == "10x"
    assert fmt.leverage(12.5) == "12.5x"


def test_palette_modes_are_okabe_ito_blue_and_orange():
    assert (palette.CROSS, palette.ISOLATED) == ("#0072B2", "#E69F00")
    level_colours = [palette.ENTRY, palette.LIQUIDATION, palette.BANKRUPTCY, palette.STOP]
    assert len({palette.CROSS, palette.ISOLATED, *level_colours, palette.PRICE}) == 7


def test_palette_with_alpha_bad_colour_raises():
    with pytest.raises(ValueError, match="color must be '#RRGGBB'"):
        palette.with_alpha("blue", 0.5)
