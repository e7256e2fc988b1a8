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
from _plotly_utils import basevalidators

from marginlab import charts
from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.engine import (
    FEE_RATES,
    MODES,
    fee_share_of_margin,
    hold_with_funding,
    round_trip_fees,
)
from marginlab.scenarios import Trade, guide_account, two_positions_account
from marginlab.widgets import make_figure_widget

NAN = float("nan")


def _ladder(mark: float, stop: float | None, cross_wallet_usdt: float = 10_000) -> charts.Ladder:
    """The guide's trade at ``mark``; its cross wallet of ``cross_wallet_usdt`` (above
    20,000 the cross position has no liquidation price)."""
    trade = Trade(wallet_balance=cross_wallet_usdt)
    marks = {"BTCUSDT": mark}
    levels = {
        "cross": trade.account("cross").levels("BTCUSDT", marks),
        "isolated": guide_account("isolated").levels("BTCUSDT", marks),
    }
    return charts.Ladder(levels, stop_price=stop)


def _map(mark_btc: float) -> charts.CrossMap:
    account = two_positions_account("cross")
    xs, ys = np.array([40_000.0, 60_000.0, 80_000.0]), np.array([2_000.0, 3_000.0, 6_000.0])
    ratio = [
        [account.state({"BTCUSDT": x, "ETHUSDT": y}).cross_margin_ratio for x in xs] for y in ys
    ]
    marks = {"BTCUSDT": mark_btc, "ETHUSDT": 3_000.0}
    return charts.CrossMap(
        "BTCUSDT",
        "ETHUSDT",
        xs,
        ys,
        np.array(ratio),
        mark_btc,
        3_000.0,
        account.state(marks).cross_margin_ratio,
        {"BTCUSDT": 54_216.87, "ETHUSDT": 3_286.85},
    )


def _distance(current: float, wallet: float) -> charts.DistanceCurves:
    trade = Trade(wallet_balance=wallet)
    grid = [1.0, 5.0, 10.0, 20.0, 40.0]
    return charts.DistanceCurves({m: trade.leverage_curve(m, grid) for m in MODES}, current)


def _loss_curve(mark: float, leverage: float) -> charts.LossCurve:
    prices = np.arange(20_000.0, 80_001.0, 500.0)
    accounts = {m: Trade(leverage=leverage).account(m) for m in MODES}
    return charts.LossCurve(
        prices,
        {m: a.wallet_loss({"BTCUSDT": prices}) for m, a in accounts.items()},
        mark,
        {m: a.wallet_loss({"BTCUSDT": mark}) for m, a in accounts.items()},
        {m: a.liquidation_price("BTCUSDT") for m, a in accounts.items()},
        10_000,
    )


def _fees(leverage: float, kind: str) -> charts.FeeCurves:
    grid = np.array([1.0, 10.0, 50.0, 100.0, 125.0])
    shares = {k: fee_share_of_margin(grid, rate) for k, rate in FEE_RATES.items()}
    account = Trade(leverage=leverage, fee_rate=FEE_RATES[kind]).account("isolated")
    return charts.FeeCurves(grid, shares, leverage, kind, round_trip_fees(account, "BTCUSDT"))


def _funding(rate: float, day: float) -> charts.FundingCurves:
    holds = {
        m: hold_with_funding(Trade(leverage=50).account(m), intervals=30, rate=rate) for m in MODES
    }
    return charts.FundingCurves(holds, 60_000.0, rate, 8.0, day)


def _balance(new_order: float) -> charts.BalanceSplit:
    states = {}
    for mode in MODES:
        account = guide_account(mode).set_margin_mode("ETHUSDT", mode)
        if new_order:
            account = account.open(
                "ETHUSDT", side="long", price=3_000, leverage=10, margin=new_order
            )
        states[mode] = account.state()
    return charts.BalanceSplit(states)


# name -> (builder, updater, first input, second input)
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
        charts.LossBars(
            10_000, {"cross": 10_000, "isolated": 2_000}, {"cross": True, "isolated": True}
        ),
        charts.LossBars(
            12_000, {"cross": 1_500, "isolated": 2_000}, {"cross": False, "isolated": True}
        ),
    ),
    "liquidation_distance": (
        charts.liquidation_distance_figure,
        charts.update_liquidation_distance,
        _distance(10.0, 10_000),
        _distance(20.0, 30_000),
    ),
    "equity_path": (
        charts.equity_path_figure,
        charts.update_equity_path,
        charts.EquityPaths(
            [0, 1, 2],
            {
                "cross": charts.ModePath([10_000, 9_000, 8_000], [0.01, 0.02, 0.03]),
                "isolated": charts.ModePath([10_000, 9_000, 8_000], [0.04, 0.5, 1.2], 2),
            },
        ),
        charts.EquityPaths(
            [0, 1, 2, 3],
            {
                "cross": charts.ModePath([10_000, 9_500, 9_000, 9_200], [0.01, 0.015, 0.02, 0.018]),
                "isolated": charts.ModePath(
                    [10_000, 9_500, 9_400, 9_400], [0.04, 0.3, NAN, NAN], None, 2
                ),
            },
        ),
    ),
    "cross_map": (charts.cross_map_figure, charts.update_cross_map, _map(60_000), _map(45_000)),
    "outcomes": (
        charts.outcomes_figure,
        charts.update_outcomes,
        charts.Outcomes(
            {"cross": [0, 10_000, 12_000], "isolated": [8_000, 10_000, 12_000]},
            {"cross": 1 / 3, "isolated": 1 / 3},
        ),
        charts.Outcomes(
            {
                "cross": [0, 0, 11_000],
                "isolated": [8_000, 8_000, 11_000],
                "isolated_stop": [9_000, 9_000, 11_000],
            },
            {"cross": 2 / 3, "isolated": 2 / 3, "isolated_stop": 0.0},
            initial_equity_usdt=10_000,
        ),
    ),
    "loss_curve": (
        charts.loss_curve_figure,
        charts.update_loss_curve,
        _loss_curve(60_000, 10),
        _loss_curve(50_000, 20),
    ),
    "fees": (charts.fees_figure, charts.update_fees, _fees(10, "taker"), _fees(100, "maker")),
    "funding": (
        charts.funding_figure,
        charts.update_funding,
        _funding(0.0001, 2.0),
        _funding(0.002, 10.0),
    ),
    "balance": (charts.balance_figure, charts.update_balance, _balance(0), _balance(3_000)),
}
MODE_FREE = {"fees"}  # charts that show no margin mode (fees are the same in both)


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
    chart = build(first)
    fig, count = chart.figure, len(chart.figure.data)
    summary = update(fig, second)
    fresh = build(second)
    assert summary == fresh.summary != chart.summary
    assert fig is chart.figure and len(fig.data) == count
    assert _trace_data(fig) == _trace_data(fresh.figure)
    # And back: nothing of the second inputs may linger (e.g. a hidden trace's data).
    assert update(fig, first) == chart.summary
    assert _trace_data(fig) == _trace_data(build(first).figure)
    assert _trace_data(fig) != _trace_data(fresh.figure)


@pytest.mark.parametrize("name", CASES)
def test_chart_update_equals_fresh_build_in_figure_widget(name):
    build, update, first, second = CASES[name]
    widget = go.FigureWidget(build(first).figure)
    summary = update(widget, second)
    assert summary == build(second).summary
    assert _trace_data(widget) == _trace_data(build(second).figure)
    update(widget, first)
    assert _trace_data(widget) == _trace_data(build(first).figure)


def _json_strict(value) -> str:
    """JSON as Jupyter sends it: NaN is not allowed (binary buffers stand in as text)."""
    return json.dumps(value, allow_nan=False, default=lambda buffer: "<buffer>")


@pytest.mark.parametrize("name", CASES)
def test_chart_widget_messages_carry_no_nan(name):
    build, update, first, second = CASES[name]
    widget = go.FigureWidget(build(first).figure)
    _json_strict(widget.get_state())  # what the widget sends when it is created
    sent = []
    send = widget.comm.send
    widget.comm.send = lambda data=None, metadata=None, buffers=None: (
        sent.append(data) or send(data=data, metadata=metadata, buffers=buffers)
    )
    update(widget, second)
    update(widget, first)
    assert sent  # the updates did send something
    for message in sent:
        _json_strict(message)


@pytest.mark.parametrize("name", CASES)
def test_chart_update_leaves_layout_untouched(name):
    build, update, first, second = CASES[name]
    fig = build(first).figure
    before = fig.layout.to_plotly_json()
    update(fig, second)
    assert fig.layout.to_plotly_json() == before


@pytest.mark.parametrize("name", CASES)
def test_chart_layout_uses_shared_theme(name):
    build, _, first, _ = CASES[name]
    layout = build(first).figure.layout
    assert layout.template == _common.TEMPLATE
    assert layout.uirevision == name
    assert layout.meta["chart"] == name
    assert layout.font.size >= 14


@pytest.mark.parametrize("name", CASES)
def test_chart_axis_titles_are_annotations_beside_their_axes(name):
    # figure.js moves an axis's range by Plotly.relayout, which redraws no axis title
    # (plotly.js 4.1): every title is an annotation on paper coordinates instead.
    build, _, first, _ = CASES[name]
    layout = build(first).figure.layout.to_plotly_json()
    axes = {key: spec for key, spec in layout.items() if key[:5] in ("xaxis", "yaxis")}
    assert axes and all("title" not in spec for spec in axes.values()), axes
    titles = layout.get("annotations", [])
    for title in titles:
        assert (title["xref"], title["yref"], title["showarrow"]) == ("paper", "paper", False)
        assert title["font"]["size"] == _common.AXIS_TITLE_SIZE == 19  # as plotly.js's titles
        if title.get("textangle") == -90:  # a y axis: left of the plot, past its tick labels
            assert title["xshift"] == -_common.Y_TITLE_OFFSET and title["xanchor"] == "right"
        else:  # an x axis: below the plot, past its tick labels
            assert title["yshift"] == -_common.X_TITLE_OFFSET and title["yanchor"] == "top"
    assert len(titles) >= 1


def test_axis_titles_sit_at_the_middle_of_their_axis_on_its_anchor_side():
    layout = {
        "xaxis": _common.axis("days", anchor="y2", domain=[0.1, 0.9]),
        "yaxis": _common.axis("top (USDT)", domain=[0.5, 1.0]),
        "yaxis2": _common.axis("bottom (USDT)", domain=[0.0, 0.4]),
        "xaxis2": {"anchor": "y", "matches": "x"},
    }
    titles = {t["text"]: t for t in _common.axis_titles(layout)}
    assert (titles["days"]["x"], titles["days"]["y"]) == (0.5, 0.0)  # y2 starts at 0
    assert (titles["top (USDT)"]["x"], titles["top (USDT)"]["y"]) == (0.1, 0.75)
    assert titles["bottom (USDT)"]["y"] == 0.2
    assert "title" not in layout["xaxis"] and "title" not in layout["yaxis2"]


def test_chart_template_is_plotly_white_for_2d_axes_and_chart_trace_types():
    white = pio.templates["plotly_white"].to_plotly_json()
    ours = _common.TEMPLATE.to_plotly_json()
    # Every layout default kept as plotly_white has it; only other subplot kinds and the
    # colour scales are left out, and tick labels are not checked for overflow.
    dropped = set(white["layout"]) - set(ours["layout"])
    assert dropped == {"geo", "polar", "scene", "ternary", "colorscale"}
    for axis in ("xaxis", "yaxis"):
        assert ours["layout"][axis].pop("ticklabeloverflow") == "allow"
        assert ours["layout"][axis]["automargin"] is True  # which keeps them in the chart
    assert all(ours["layout"][key] == white["layout"][key] for key in ours["layout"])
    # The trace defaults are written on the traces instead (plotly.js looks every trace
    # property up in a template's trace defaults at every redraw).
    assert "data" not in ours
    assert set(_common.TRACE_DEFAULTS) == {"bar", "contour"}
    for kind, defaults in _common.TRACE_DEFAULTS.items():
        (spec,) = white["data"][kind]
        assert defaults == {k: v for k, v in spec.items() if k not in ("type", "colorscale")}
    assert set(white["data"]["scatter"][0]) == {"type", "fillpattern"}  # unused: no shape


def test_chart_traces_carry_the_theme_defaults_under_their_own_style():
    bar = _common.trace("bar", "b", "b", marker={"color": "red", "line": {"width": 2}})
    assert bar["marker"]["color"] == "red"
    assert bar["marker"]["line"] == {"color": "white", "width": 2}  # its width, white outline
    assert bar["marker"]["pattern"] == {"fillmode": "overlay", "size": 10, "solidity": 0.2}
    assert bar["error_x"] == {"color": "#2a3f5f"}
    contour = _common.trace("contour", "c", "c", colorbar={"ticks": "outside"})
    assert contour["colorbar"] == {"outlinewidth": 0, "ticks": "outside"}
    assert _common.trace("scatter", "s", "s", mode="lines") == {
        "type": "scatter",
        "meta": "s",
        "name": "s",
        "mode": "lines",
    }
    assert _common.TRACE_DEFAULTS["bar"]["marker"]["line"]["width"] == 0.5  # not changed


@pytest.mark.parametrize("name", CASES)
def test_chart_traces_use_template_types_and_own_colour_scales(name):
    build, _, first, _ = CASES[name]
    for trace in build(first).figure.data:
        assert trace.type in _common.TRACE_TYPES, trace.meta
        if trace.type == "contour":  # the template carries no colour scale for it
            assert trace.colorscale is not None, trace.meta


@pytest.mark.parametrize("name", CASES)
def test_chart_traces_have_unique_keys(name):
    build, _, first, _ = CASES[name]
    keys = [trace.meta for trace in build(first).figure.data]
    assert all(isinstance(key, str) for key in keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", sorted(set(CASES) - MODE_FREE))
def test_chart_cross_and_isolated_always_use_their_colours(name):
    build, _, first, _ = CASES[name]
    traces = build(first).figure.data
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
        update(CASES[other][0](CASES[other][2]).figure, second)


@pytest.fixture
def assignments(monkeypatch):
    """Every property plotly.py validates and stores (trace and layout assignments)."""
    from plotly.basedatatypes import BasePlotlyType

    made = []
    store = BasePlotlyType.__setitem__

    def counted(self, prop, value):
        made.append(prop)
        return store(self, prop, value)

    monkeypatch.setattr(BasePlotlyType, "__setitem__", counted)
    return made


@pytest.mark.parametrize("name", CASES)
def test_chart_update_assigns_only_what_changed(name, assignments):
    build, update, first, second = CASES[name]
    fig = build(first).figure
    update(fig, second)
    assert assignments  # the second inputs move something
    assignments.clear()
    update(fig, second)
    assert assignments == []  # plotly validates nothing for values already there


def _equal(a, b) -> bool:
    """Equal values (NaN equals NaN), lists and tuples alike at every depth."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    if isinstance(a, list | tuple):
        same_length = isinstance(b, list | tuple) and len(a) == len(b)
        return same_length and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("name", CASES)
def test_held_values_are_the_ones_plotly_reads(name):
    """apply() compares new values with _common.held(); a plotly.py release that stored
    them elsewhere would fail here instead of making every tick slow (or stale)."""
    build, update, first, second = CASES[name]
    fig = make_figure_widget(build(first).figure)
    update(fig, second)
    for trace in fig.data:
        now = _common.held(trace)
        assert now.get("meta") == trace.meta
        for key, value in now.items():
            if not isinstance(value, dict):  # nested properties read as plotly objects
                assert _equal(value, trace[key]), (trace.meta, key)
    assert _common.held(fig.layout)["meta"] == fig.layout.meta
    for axis in ("xaxis", "yaxis"):
        held_range = _common.held(fig.layout)[axis].get("range")
        assert _equal(held_range, fig.layout[axis].range), (axis, held_range)


def test_chart_update_on_non_figure_raises_type_error():
    with pytest.raises(TypeError, match="fig must be a plotly Figure"):
        charts.update_price_ladder({"data": []}, _ladder(60_000, None))


def test_find_trace_unknown_key_lists_keys():
    fig = charts.price_ladder_figure(_ladder(60_000, None)).figure
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


def _stored_exactly(a, b) -> bool:
    """Whether two stored trace values are the same value of the same type (numpy: the
    same dtype and values)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, list):
        return len(a) == len(b) and all(_stored_exactly(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_stored_exactly(a[k], b[k]) for k in a)
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("name", CASES)
def test_update_stores_values_as_a_fresh_build_does(name):
    """apply() writes values without plotly's validation (_common.stored); what the figure
    holds must be what plotly's validation would have stored, type for type."""
    build, update, first, second = CASES[name]
    fig = make_figure_widget(build(first).figure)
    update(fig, second)
    fresh = build(second).figure
    for trace, expected in zip(fig.data, fresh.data, strict=True):
        held, wanted = _common.held(trace), _common.held(expected)
        assert held.keys() - {"uid"} == wanted.keys() - {"uid"}, trace.meta
        for key in wanted.keys() - {"uid"}:
            assert _stored_exactly(held[key], wanted[key]), (trace.meta, key, held[key])


ARRAY_CASES = ("outcomes", "loss_curve", "funding")  # their updates write numpy arrays


@pytest.mark.parametrize("name", ARRAY_CASES)
def test_update_writes_arrays_without_plotly_validating_each(name, monkeypatch):
    """The fast write: plotly's validators copy each array they check (~0.1 ms a numpy
    array); a plotly.py release whose plotly_restyle validated would fail here instead of
    making every tick slower."""
    build, update, first, second = CASES[name]
    fig = make_figure_widget(build(first).figure)
    before = [dict(_common.held(trace)) for trace in fig.data]

    def validated(*args, **kwargs):
        raise AssertionError("a trace value went through plotly's array validation")

    monkeypatch.setattr(basevalidators, "copy_to_readonly_numpy_array", validated)
    update(fig, second)
    monkeypatch.undo()
    assert _trace_data(fig) == _trace_data(build(second).figure)
    written = [
        key
        for trace, old in zip(fig.data, before, strict=True)
        for key, value in _common.held(trace).items()
        if isinstance(value, np.ndarray) and value is not old.get(key)
    ]
    assert written  # the update did write numpy arrays


def test_stored_array_is_a_read_only_copy_and_a_tuple_a_list():
    values = np.array([1.0, 2.0], dtype=np.float32)
    kept = _common.stored(values)
    values[0] = 9.0
    assert kept.dtype == np.float32 and kept.tolist() == [1.0, 2.0]
    assert not kept.flags.writeable
    assert _common.stored((1.0, None)) == [1.0, None]
    assert _common.stored("label") == "label"
