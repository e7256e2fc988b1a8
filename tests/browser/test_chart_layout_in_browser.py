"""Every lesson chart, drawn by plotly.js at the widths a lesson page gives it: its title,
legend and plot area do not run over one another, and its tick labels stay inside it.

A legend whose entries do not fit in one row wraps and grows upwards from the plot; the
chart's top margin must hold it under the title.
"""

from __future__ import annotations

import plotly.io as pio
import pytest
from figure_page import served

from marginlab.widgets import catalog

WIDTHS = (640, 900)  # px: a laptop's lesson page in JupyterLab, and in Voila

_DRAW_JS = """
async ([figure, width]) => {
  const Plotly = (await import('/plotly-charts.js')).default;
  document.body.innerHTML = '';
  const div = document.createElement('div');
  div.style.width = width + 'px';
  document.body.appendChild(div);
  const {data, layout} = JSON.parse(figure);
  await Plotly.newPlot(div, data, layout);
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  };
  const title = div.querySelector('.gtitle');
  // What a legend entry draws: its text and its symbol (the legend's own box has padding).
  const entries = [...div.querySelectorAll('.legend .legendtext, .legend .legendpoints, '
    + '.legend .legendlines, .legend .legendfill')];
  return {
    title: title ? box(title) : null,
    entries: entries.map(box).filter((b) => b.right > b.left),
    plot: box(div.querySelector('.nsewdrag')),
    chart: box(div),
    ticks: [...div.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text')]
      .filter((text) => text.textContent !== '').map(box),
  };
}
"""


def _overlap(a: dict, b: dict, slack: float = 3.0) -> bool:
    """Whether boxes ``a`` and ``b`` share more than ``slack`` px each way (a text's box
    takes in its line's whole ascent and descent, more than its glyphs)."""
    across = min(a["right"], b["right"]) - max(a["left"], b["left"])
    down = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return across > slack and down > slack


def _figures():
    for name, factory in catalog().items():
        for index, figure in enumerate(factory().figures):
            yield pytest.param(figure, id=f"{name}-{index}")


def _drawings(figure, new_page) -> list[tuple[int, dict]]:
    """The chart drawn by plotly.js at each lesson width: (width, what _DRAW_JS measures)."""
    page = new_page()
    with served() as url:
        page.goto(f"{url}/index.html")
        return [(width, page.evaluate(_DRAW_JS, [pio.to_json(figure), width])) for width in WIDTHS]


@pytest.mark.browser
@pytest.mark.parametrize("figure", list(_figures()))
def test_chart_title_legend_and_plot_do_not_overlap(figure, new_page):
    for width, boxes in _drawings(figure, new_page):
        title, plot = boxes["title"], boxes["plot"]
        for entry in boxes["entries"]:
            assert title is None or not _overlap(title, entry), (width, boxes)
            assert entry["bottom"] <= plot["top"] + 1, (width, boxes)


@pytest.mark.browser
@pytest.mark.parametrize("figure", list(_figures()))
def test_chart_tick_labels_stay_inside_the_chart(figure, new_page):
    # The charts let plotly.js skip its tick label overflow check (ticklabeloverflow
    # "allow", _common.TEMPLATE: ~1 ms of every redraw that moves an axis); automargin
    # must then keep every label inside the chart, where that check would hide none.
    for width, boxes in _drawings(figure, new_page):
        chart = boxes["chart"]
        assert boxes["ticks"], (width, boxes)
        for tick in boxes["ticks"]:
            inside = tick["left"] >= chart["left"] - 0.5 and tick["right"] <= chart["right"] + 0.5
            assert inside and tick["top"] >= chart["top"] - 0.5, (width, tick, chart)
            assert tick["bottom"] <= chart["bottom"] + 0.5, (width, tick, chart)
