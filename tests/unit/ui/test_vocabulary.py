from __future__ import annotations

from optimizer_app.domain.engine import METRIC_KEYS
from optimizer_app.persistence.models import JobStatus
from optimizer_app.ui import vocabulary as vocab


def test_every_status_has_its_own_label_and_colour() -> None:
    assert set(vocab.STATUSES) == {s.value for s in JobStatus}
    labels = [s.label for s in vocab.STATUSES.values()]
    colours = [s.color for s in vocab.STATUSES.values()]
    assert len(set(labels)) == len(labels) == 6
    assert len(set(colours)) == len(colours) == 6
    assert vocab.STATUSES["queued"] == vocab.StatusStyle("Queued", "gray", "clock")
    assert vocab.STATUSES["running"].color == "blue"
    assert vocab.STATUSES["succeeded"].color == "green"
    assert vocab.STATUSES["failed"].color == "red"
    assert (vocab.STATUSES["early-stopped"].label, vocab.STATUSES["early-stopped"].color) == (
        "Stopped early",
        "amber",
    )
    assert vocab.STATUSES["canceled"].label == "Canceled"


def test_live_statuses() -> None:
    assert {s for s in vocab.STATUSES if vocab.is_live(s)} == {"queued", "running"}


def test_every_metric_has_a_readable_label() -> None:
    assert set(vocab.METRICS) == set(METRIC_KEYS)
    assert vocab.metric_label("sharpe") == "Sharpe ratio"
    assert vocab.metric_label("maxDrawdown") == "Max drawdown"


def test_default_mode_follows_the_metric() -> None:
    assert vocab.default_mode("maxDrawdown") == "min"
    assert vocab.default_mode("sharpe") == "max"
    assert vocab.default_mode("totalReturn") == "max"


def test_direction_text() -> None:
    assert vocab.direction_text("max") == "higher is better"
    assert vocab.direction_text("min") == "lower is better"


def test_metric_values_are_formatted_by_kind() -> None:
    assert vocab.show_metric("totalReturn", 0.30281) == "30.28%"
    assert vocab.show_metric("maxDrawdown", 0.45) == "45.00%"
    assert vocab.show_metric("sharpe", 1.23456) == "1.23"
    assert vocab.show_metric("trades", 84.0) == "84"
    assert vocab.show_metric("finalEquity", 12345.678) == "12,345.68"
    assert vocab.show_metric("sharpe", None) == "–"


def test_scores_get_the_decimals_that_tell_them_apart_and_ties_read_the_same() -> None:
    assert vocab.places_to_tell_apart("sharpe", [0.3812, 0.3809, 0.3809, 1.2]) == 4
    assert vocab.places_to_tell_apart("sharpe", [0.38, 0.39, None, float("nan")]) == 2
    assert vocab.places_to_tell_apart("sharpe", [0.5, 0.5]) == 2  # a true tie
    # Percent metrics are told apart in percent: 29.688% and 29.691% need three decimals.
    assert vocab.places_to_tell_apart("maxDrawdown", [0.29688, 0.29691]) == 3
    assert vocab.places_to_tell_apart("trades", [12, 13]) == 0
    assert vocab.places_to_tell_apart("sharpe", [0.1, 0.1 + 1e-15]) == vocab.MAX_PLACES
    assert vocab.show_score("sharpe", 0.38123, 4) == "0.3812"
    assert vocab.show_score("maxDrawdown", 0.296885, 3) == "29.689%"
    assert vocab.show_score("trades", 12, 3) == "12"
    assert vocab.show_score("finalEquity", 12345.678, 2) == "12,345.68"


def test_charts_plot_a_metric_in_the_tables_unit() -> None:
    assert vocab.chart_value("maxDrawdown", 0.296885) == 29.6885
    assert vocab.chart_unit("maxDrawdown") == "%"
    assert vocab.chart_value("sharpe", 0.123456789) == 0.1235
    assert vocab.chart_unit("sharpe") == ""
    assert vocab.chart_value("sharpe", None) is None
    assert {vocab.metric_unit(k) for k in METRIC_KEYS} <= {"percent", "money", "count", "ratio"}
