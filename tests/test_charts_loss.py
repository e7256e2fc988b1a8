"""Loss-at-liquidation bars: the engine's liquidation outcomes, lost vs kept per mode."""

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab import charts
from marginlab.charts import LossBars, find_trace
from marginlab.scenarios import guide_account


def _bars(
    wallet_balance_usdt,
    cross_loss_usdt,
    isolated_loss_usdt,
    cross_liquidated=True,
    isolated_liquidated=True,
) -> LossBars:
    return LossBars(
        wallet_balance_usdt,
        {"cross": cross_loss_usdt, "isolated": isolated_loss_usdt},
        {"cross": cross_liquidated, "isolated": isolated_liquidated},
    )


def loss_at_liquidation_figure(**inputs):
    return charts.loss_at_liquidation_figure(_bars(**inputs))


def update_loss_at_liquidation(fig, **inputs) -> str:
    return charts.update_loss_at_liquidation(fig, _bars(**inputs))


def _bar(fig, key: str) -> float:
    x = np.asarray(find_trace(fig, key).x, dtype=float)
    assert x.shape == (1,)
    return float(x[0])


def test_loss_at_liquidation_guide_example_isolated_keeps_8000_cross_keeps_nothing():
    isolated = guide_account("isolated").liquidate({"BTCUSDT": 54_000})
    cross = guide_account("cross").liquidate({"BTCUSDT": 30_000})
    chart = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000,
        cross_loss_usdt=cross.loss_usdt,
        isolated_loss_usdt=isolated.loss_usdt,
    )
    # Isolated: lose the 2,000 margin, keep 8,000; cross: the whole 10,000 pool goes.
    assert (_bar(chart.figure, "lost-isolated"), _bar(chart.figure, "kept-isolated")) == (
        2_000.0,
        8_000.0,
    )
    assert (_bar(chart.figure, "lost-cross"), _bar(chart.figure, "kept-cross")) == (10_000.0, 0.0)
    assert chart.summary == (
        "From a 10,000.00 USDT wallet, isolated liquidation loses 2,000.00 USDT and keeps "
        "8,000.00 USDT; cross liquidation loses 10,000.00 USDT and keeps 0.00 USDT."
    )
    assert list(find_trace(chart.figure, "lost-isolated").text) == ["lost 2,000.00"]


def test_loss_at_liquidation_segments_start_where_the_one_before_ends():
    # Each segment carries its own base (barmode overlay draws them end to end, and the
    # browser redraws a move on plotly.js's fast path): lost from 0, kept after it, a gain
    # past the wallet.
    chart = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000,
        cross_loss_usdt=-2_500,
        isolated_loss_usdt=2_000,
        cross_liquidated=False,
    )
    fig = chart.figure
    assert fig.layout.barmode == "overlay"
    assert fig.layout.uniformtext.mode is None
    bases = {key: find_trace(fig, key).base for key in ("lost-isolated", "kept-isolated")}
    assert bases == {"lost-isolated": 0.0, "kept-isolated": 2_000.0}
    assert (find_trace(fig, "kept-cross").base, find_trace(fig, "gain-cross").base) == (
        0.0,
        10_000.0,
    )
    assert _bar(fig, "gain-cross") == 2_500.0


def test_loss_at_liquidation_label_too_long_for_its_segment_is_left_to_the_hover():
    # 150 of a 10,000 wallet is ~9 px on a lesson chart: no room for "lost 150.00".
    chart = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000, cross_loss_usdt=150, isolated_loss_usdt=150
    )
    lost = find_trace(chart.figure, "lost-isolated")
    assert (list(lost.text), list(lost.hovertext)) == ([""], ["lost 150.00"])
    assert list(find_trace(chart.figure, "kept-isolated").text) == ["kept 9,850.00"]


def test_update_loss_at_liquidation_price_above_cross_liquidation_shows_running_loss():
    chart = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000, cross_loss_usdt=10_000, isolated_loss_usdt=2_000
    )
    # At 54,000 cross is not liquidated: uPnL = (54,000 − 60,000)/3 = −2,000 USDT.
    state = guide_account("cross").state({"BTCUSDT": 54_000})
    assert state.cross_margin_ratio < 1
    summary = update_loss_at_liquidation(
        chart.figure,
        wallet_balance_usdt=10_000,
        cross_loss_usdt=-state.unrealized_pnl,
        isolated_loss_usdt=2_000,
        cross_liquidated=False,
    )
    assert _bar(chart.figure, "lost-cross") == 2_000.0
    assert _bar(chart.figure, "kept-cross") == 8_000.0
    assert list(find_trace(chart.figure, "lost-cross").text) == ["down 2,000.00"]
    assert summary.endswith("; cross is not liquidated (down 2,000.00 USDT, 8,000.00 USDT left).")


def test_update_loss_at_liquidation_on_figure_widget_moves_bars():
    widget = go.FigureWidget(
        loss_at_liquidation_figure(
            wallet_balance_usdt=10_000, cross_loss_usdt=10_000, isolated_loss_usdt=2_000
        ).figure
    )
    update_loss_at_liquidation(
        widget, wallet_balance_usdt=20_000, cross_loss_usdt=20_000, isolated_loss_usdt=2_000
    )
    assert _bar(widget, "kept-isolated") == 18_000.0
    assert _bar(widget, "lost-cross") == 20_000.0


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"isolated_loss_usdt": 10_001}, r"loss_usdt\['isolated'\] must be at most .*10,000\.00"),
        ({"wallet_balance_usdt": -5}, "wallet_balance_usdt must be 0 or more"),
        ({"cross_loss_usdt": float("nan")}, r"loss_usdt\['cross'\] must be finite"),
        ({"cross_loss_usdt": float("-inf")}, r"loss_usdt\['cross'\] must be finite"),
    ],
    ids=["loss-above-wallet", "negative-wallet", "nan-loss", "infinite-gain"],
)
def test_loss_at_liquidation_bad_amount_raises_naming_it(inputs, message):
    base = {"wallet_balance_usdt": 10_000, "cross_loss_usdt": 10_000, "isolated_loss_usdt": 2_000}
    with pytest.raises(ValueError, match=message):
        loss_at_liquidation_figure(**base | inputs)


def test_loss_at_liquidation_mark_above_entry_gain_drawn_past_the_wallet_worded_up():
    # At 70,000 the guide's long (Q = 1/3 BTC from 60,000) is up 10,000/3 = 3,333.33 USDT
    # in both modes; neither is liquidated, nothing of the 10,000 wallet is lost.
    gain = guide_account("cross").state({"BTCUSDT": 70_000}).unrealized_pnl
    assert abs(gain - 10_000 / 3) <= 1e-9
    chart = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000,
        cross_loss_usdt=-gain,
        isolated_loss_usdt=-gain,
        cross_liquidated=False,
        isolated_liquidated=False,
    )
    for mode in ("cross", "isolated"):
        assert _bar(chart.figure, f"lost-{mode}") == 0.0
        assert _bar(chart.figure, f"kept-{mode}") == 10_000.0
        assert abs(_bar(chart.figure, f"gain-{mode}") - 10_000 / 3) <= 1e-9
        assert list(find_trace(chart.figure, f"gain-{mode}").text) == ["up 3,333.33"]
        assert list(find_trace(chart.figure, f"lost-{mode}").text) == [""]
    assert chart.summary == (
        "From a 10,000.00 USDT wallet, isolated is not liquidated (up 3,333.33 USDT, "
        "13,333.33 USDT in all); cross is not liquidated (up 3,333.33 USDT, 13,333.33 USDT in all)."
    )


def test_update_loss_at_liquidation_gain_then_loss_clears_the_gain_bar():
    chart = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000, cross_loss_usdt=-500, isolated_loss_usdt=-500
    )
    # A liquidation that leaves the wallet up (a cross pool with a winning neighbour).
    assert "cross liquidation is up 500.00 USDT and keeps 10,500.00 USDT" in chart.summary
    update_loss_at_liquidation(
        chart.figure, wallet_balance_usdt=10_000, cross_loss_usdt=10_000, isolated_loss_usdt=2_000
    )
    assert (_bar(chart.figure, "gain-cross"), _bar(chart.figure, "gain-isolated")) == (0.0, 0.0)
    assert list(find_trace(chart.figure, "gain-cross").text) == [""]
    assert _bar(chart.figure, "lost-isolated") == 2_000.0


def test_loss_at_liquidation_gain_bar_hatched_in_the_mode_colour():
    fig = loss_at_liquidation_figure(
        wallet_balance_usdt=10_000, cross_loss_usdt=-1, isolated_loss_usdt=0
    ).figure
    for mode, colour in (("cross", "#0072B2"), ("isolated", "#E69F00")):
        gain, kept = find_trace(fig, f"gain-{mode}"), find_trace(fig, f"kept-{mode}")
        assert (gain.marker.pattern.shape, gain.marker.pattern.fgcolor) == ("/", colour)
        assert gain.marker.color == kept.marker.color  # the pale fill; hatching tells apart


def test_loss_at_liquidation_mode_without_position_keeps_the_wallet_and_says_why():
    bars = LossBars(10_000, {}, {}, notes={"cross": "order refused", "isolated": "order refused"})
    chart = charts.loss_at_liquidation_figure(bars)
    assert _bar(chart.figure, "kept-isolated") == 10_000.0
    assert list(find_trace(chart.figure, "kept-cross").text) == ["no position: order refused"]
    assert chart.summary == (
        "From a 10,000.00 USDT wallet, isolated has no position (order refused); cross has no "
        "position (order refused)."
    )
