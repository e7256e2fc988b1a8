"""widgets.show: a static chart as plotly JSON, static HTML and its summary, or in Voila as
a shared-plotly.js figure widget; a lesson widget with its static chart beside it (drawn
only where no kernel runs); computed prose as Markdown."""

from __future__ import annotations

import json
import sys

import pytest

from marginlab import charts
from marginlab.widgets import SharedFigureWidget, show
from marginlab.widgets.show import (
    PLOTLY_MIME,
    VOILA_KERNEL_ENV,
    WIDGET_MIME,
    in_voila,
    prose,
    static_bundle,
    widget_bundle,
)


@pytest.fixture
def chart() -> charts.Chart:
    return charts.loss_at_liquidation_figure(
        charts.LossBars(
            10_000.0, {"cross": 9_000.0, "isolated": 2_000.0}, {"cross": True, "isolated": True}
        )
    )


@pytest.fixture
def displayed(monkeypatch) -> list[tuple[tuple, dict]]:
    calls: list[tuple[tuple, dict]] = []
    module = sys.modules["marginlab.widgets.show"]  # the package exports show, the function
    monkeypatch.setattr(module, "display", lambda *a, **k: calls.append((a, k)))
    return calls


def test_static_bundle_has_plotly_json_markdown_summary_and_text(chart) -> None:
    bundle = static_bundle(chart)
    assert bundle[PLOTLY_MIME]["layout"]["meta"] == {"chart": "loss_at_liquidation"}
    assert bundle["text/markdown"] == f"**Chart:** {chart.summary}"
    assert bundle["text/plain"] == chart.summary


def test_show_outside_voila_displays_the_plotly_json_bundle(chart, displayed, monkeypatch):
    monkeypatch.delenv(VOILA_KERNEL_ENV, raising=False)
    show(chart)
    [(args, kwargs)] = displayed
    assert args == (static_bundle(chart),) and kwargs == {"raw": True}


def test_show_in_voila_displays_a_shared_figure_widget_of_the_chart(chart, displayed, monkeypatch):
    monkeypatch.setenv(VOILA_KERNEL_ENV, "0d9c5c70-2888-453e-88b3-707fdc9e019b")
    assert in_voila()
    show(chart)
    [((widget,), kwargs)] = displayed
    assert isinstance(widget, SharedFigureWidget) and kwargs == {}
    assert widget.to_dict() == chart.figure.to_dict()
    assert widget is not chart.figure  # a copy: the chart's own figure stays as it was


@pytest.mark.parametrize("voila", [True, False])
def test_show_as_widget_argument_overrides_detection(chart, displayed, monkeypatch, voila):
    if voila:
        monkeypatch.setenv(VOILA_KERNEL_ENV, "kernel")
    else:
        monkeypatch.delenv(VOILA_KERNEL_ENV, raising=False)
    show(chart, as_widget=not voila)
    [((shown,), _)] = displayed
    assert isinstance(shown, SharedFigureWidget) is (not voila)


@pytest.mark.parametrize("thing", [None, "chart", {"figure": None}])
def test_show_not_a_chart_raises_type_error_naming_the_parameter(thing, displayed) -> None:
    with pytest.raises(TypeError, match=r"chart must be a marginlab\.charts\.Chart"):
        show(thing)
    assert displayed == []


def test_static_bundle_html_draws_the_figure_and_says_the_summary(chart) -> None:
    html = static_bundle(chart)["text/html"]
    assert 'class="plotly-graph-div"' in html and "Plotly.newPlot" in html
    assert "<script src=" not in html  # plotly.js is the page's, loaded once
    assert chart.summary.split(":")[0] in html


def test_show_lesson_widget_outside_voila_adds_its_static_chart(displayed, monkeypatch):
    from marginlab.widgets import catalog

    monkeypatch.delenv(VOILA_KERNEL_ENV, raising=False)
    widget = catalog()["loss_at_liquidation"]()
    show(widget)
    [((bundle,), kwargs)] = displayed
    assert kwargs == {"raw": True}
    assert bundle[WIDGET_MIME]["model_id"] == widget.model_id
    assert bundle["text/plain"] == widget.summary
    assert widget.summary.split(":")[0] in bundle["text/html"]


def test_widget_bundle_html_draws_every_figure_of_the_widget_above_its_summary(monkeypatch):
    from marginlab.widgets import catalog

    monkeypatch.delenv(VOILA_KERNEL_ENV, raising=False)
    widget = catalog()["stop_loss"]()  # three charts: with a stop, without, many paths
    html = widget_bundle(widget)["text/html"]
    assert html.count('class="plotly-graph-div"') == len(widget.figures) == 3
    positions = [html.index(json.dumps(f.layout.title.text)[1:-1]) for f in widget.figures]
    assert positions == sorted(positions)  # in the widget's order
    assert html.index("<b>Chart:</b>") > positions[-1] and html.count("<b>Chart:</b>") == 1


def test_show_lesson_widget_in_voila_displays_the_widget_alone(displayed, monkeypatch):
    from marginlab.widgets import catalog

    monkeypatch.setenv(VOILA_KERNEL_ENV, "kernel")
    widget = catalog()["loss_at_liquidation"]()
    show(widget)
    assert displayed == [((widget,), {})]


def test_widget_bundle_of_a_widget_without_static_raises_type_error() -> None:
    import ipywidgets

    with pytest.raises(TypeError, match="widget must be a lesson widget"):
        widget_bundle(ipywidgets.IntSlider())


def test_prose_displays_dedented_markdown(displayed) -> None:
    prose("""
        Liquidation at **54,216.87**.
    """)
    [((bundle,), kwargs)] = displayed
    assert bundle == {
        "text/markdown": "Liquidation at **54,216.87**.",
        "text/plain": "Liquidation at **54,216.87**.",
    }
    assert kwargs == {"raw": True}
