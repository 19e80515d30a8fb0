from __future__ import annotations

from optimizer_app.persistence.tasks import PairBest
from optimizer_app.services.heatmap import Heatmap
from optimizer_app.ui import heatmap_view

LABELS = {"period": "RSI period", "lower": "Lower level", "upper": "Upper level"}


def _heatmap(mode: str = "max", metric: str = "totalReturn") -> Heatmap:
    cells = [PairBest(x=2, y=20.0, score=0.296885, index=0),
             PairBest(x=2, y=25.5, score=-0.1, index=3),
             PairBest(x=14, y=25.5, score=0.5, index=9)]
    params = {"period": [2, 2, 14], "lower": [20.0, 25.5, 25.5], "upper": [70.0, 60.0, 80.0]}
    return Heatmap(x="period", y="lower", x_values=[2, 8, 14], y_values=[20.0, 25.5],
                   axes=["period", "lower", "upper"], metric=metric, mode=mode, cells=cells,
                   params=params)


def test_chart_data_has_ticks_at_the_grids_values_and_tooltips_in_the_tables_unit() -> None:
    data = heatmap_view.chart_data(_heatmap(), LABELS)
    assert data["kind"] == "heatmap"
    assert (data["xLabel"], data["yLabel"], data["scoreLabel"]) == ("RSI period", "Lower level",
                                                                    "Total return")
    assert data["xTicks"] == ["2", "8", "14"]  # integers stay integers, every grid value
    assert data["yTicks"] == ["20", "25.5"]
    first, second, third = data["cells"]
    assert first == [0, 0, 0.5, 0, "29.69%", "Upper level 70"]
    assert second[:2] == [0, 1] and second[2] == 0.0 and second[4] == "-10.00%"
    assert third[:4] == [2, 1, 1.0, 9] and third[5] == "Upper level 80"


def test_shades_follow_the_direction_and_ties_share_one() -> None:
    assert heatmap_view.chart_data(_heatmap(mode="min"), LABELS)["cells"][1][2] == 1.0
    heatmap = _heatmap()
    heatmap.cells[2] = PairBest(x=14, y=25.5, score=heatmap.cells[0].score, index=9)
    shades = [c[2] for c in heatmap_view.chart_data(heatmap, LABELS)["cells"]]
    assert shades == [1.0, 0.0, 1.0]


def test_legend_and_caption() -> None:
    assert heatmap_view.legend(_heatmap()) == ("-10.00%", "50.00%")
    assert heatmap_view.legend(_heatmap(mode="min")) == ("50.00%", "-10.00%")
    assert "all 12,345 finished combinations" in heatmap_view.caption(_heatmap(), 12_345)


def test_a_line_over_one_parameter_gets_score_ticks() -> None:
    cells = [PairBest(x=v, y=None, score=s, index=k)
             for k, (v, s) in enumerate([(5, 1.0), (10, 2.5), (15, 0.5)])]
    line = Heatmap(x="fast", y=None, x_values=[5, 10, 15], y_values=[], axes=["fast"],
                   metric="sharpe", mode="max", cells=cells,
                   params={"fast": [5, 10, 15], "slow": [60, 60, 60]})
    data = heatmap_view.chart_data(line, {"fast": "Fast SMA", "slow": "Slow SMA"})
    assert data["kind"] == "line" and data["yTicks"] == []
    assert [c[:4] for c in data["cells"]] == [[0, 0, 0.5, 0], [1, 0, 1.0, 1], [2, 0, 0.0, 2]]
    assert data["cells"][0][5] == "Slow SMA 60"
    assert data["lineTicks"][0] == [0.0, "0.50"] and data["lineTicks"][-1] == [1.0, "2.50"]


def test_a_dense_axis_is_grouped_and_its_tooltips_name_the_span() -> None:
    from dataclasses import replace

    from optimizer_app.services.heatmap import steps

    assert (steps(5001, 160), steps(160, 160), steps(10, None)) == (32, 1, 1)
    grouped = replace(_heatmap(), x_values=[2, 14], x_step=2, x_ends=[8, 14])
    data = heatmap_view.chart_data(grouped, LABELS)
    assert data["xTicks"] == ["2", "14"] and data["xTips"] == ["2–8", "14"]
    assert "Each cell groups 2 values of RSI period" in heatmap_view.caption(grouped, 10, LABELS)
