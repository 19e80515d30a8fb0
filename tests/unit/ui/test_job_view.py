from __future__ import annotations

import uuid
from datetime import timedelta

from optimizer_app.services.schemas import JobSummary
from optimizer_app.ui import job_view
from tests.unit.ui.factories import CREATED, entry, make_job


def summary(*entries: object, total: int = 100, finished: int = 40, failed: int = 0) -> JobSummary:
    return JobSummary(total=total, finished=finished, failed=failed, top_n=list(entries))


def test_top_n_is_best_first_for_each_mode() -> None:
    board = summary(entry(3, 0.5), entry(1, 1.5), entry(2, float("nan")), entry(4, 1.5))
    assert [e.index for e in job_view.sort_top(list(board.top_n), "max")] == [1, 4, 3]
    assert [e.index for e in job_view.sort_top(list(board.top_n), "min")] == [3, 1, 4]


def test_top_rows_are_display_ready() -> None:
    board = summary(entry(12, 0.2, totalReturn=0.3028, sharpe=0.2, maxDrawdown=0.4508, trades=84.0))
    (row,) = job_view.top_rows("job-1", board, "sharpe", "max")
    assert (row.rank, row.task, row.score, row.params) == (1, "#12", "0.20", "fast 12 · slow 40")
    assert (row.total_return, row.sharpe, row.max_drawdown, row.trades) == (
        "30.28%",
        "0.20",
        "45.08%",
        "84",
    )
    assert row.rerun_href == "/optimizations/new?source=job-1&index=12"
    assert row.task_id == str(uuid.uuid5(uuid.NAMESPACE_OID, "12"))


def test_sort_label_states_the_direction() -> None:
    assert job_view.sort_label("sharpe", "max") == "Ranked by Sharpe ratio: higher is better"
    assert job_view.sort_label("maxDrawdown", "min") == "Ranked by Max drawdown: lower is better"


def test_timing_of_a_running_job_estimates_what_is_left() -> None:
    started = CREATED + timedelta(seconds=30)
    job = make_job(status="running", started_at=started, queue_wait_seconds=30.0)
    board = summary(total=1000, finished=250, failed=0)
    timing = job_view.timing(job, board, now=started + timedelta(seconds=60))
    assert timing == job_view.Timing(
        elapsed="1 min 30 s", eta="3 min 00 s", queue_wait="30 s", exec_time="1 min 00 s"
    )


def test_timing_of_a_queued_and_a_finished_job() -> None:
    queued = job_view.timing(
        make_job(status="queued"), summary(finished=0), now=CREATED + timedelta(seconds=4)
    )
    assert (queued.eta, queued.queue_wait, queued.exec_time) == (
        "Estimating…",
        "4 s",
        "Not started",
    )
    done = make_job(
        started_at=CREATED,
        finished_at=CREATED + timedelta(seconds=75),
        exec_seconds=75.0,
        queue_wait_seconds=0.4,
    )
    finished = job_view.timing(done, summary(), now=CREATED + timedelta(days=3))
    assert finished == job_view.Timing(
        elapsed="1 min 15 s", eta="Done", queue_wait="<1 s", exec_time="1 min 15 s"
    )


def test_banners_show_the_reason_and_the_final_numbers() -> None:
    board = summary(entry(1, 1.234), total=5000, finished=1234, failed=2)
    stopped = make_job(status="early-stopped", stop_reason="target score 1.2 reached (best 1.234)")
    assert job_view.banner(stopped, board, "sharpe", "max") == (
        "Stopped early",
        "Target score 1.2 reached (best 1.234). 1,234 of 5,000 combinations finished, 2 failed; "
        "best Sharpe ratio 1.23.",
    )
    title, text = job_view.banner(make_job(status="canceled"), board, "sharpe", "max")
    assert title == "Canceled" and text.startswith("This optimization was canceled. 1,234 of")
    assert job_view.banner(make_job(status="running"), board, "sharpe", "max") == ("", "")
    assert job_view.banner(
        make_job(status="failed", error="dataset file missing"), board, "sharpe", "max"
    )[1].startswith("Dataset file missing. 1,234")


def test_best_curve_steps_through_each_improvement_to_the_current_count() -> None:
    job = make_job(summary=JobSummary(total=100, finished=40))
    history = job.model_copy(update={"best_history": [(1, 0.2), (7, 0.5), (30, 0.9)]})
    assert job_view.best_curve(history, "max") == [
        {"finished": 1.0, "best": 0.2},
        {"finished": 7.0, "best": 0.5},
        {"finished": 30.0, "best": 0.9},
        {"finished": 40.0, "best": 0.9},
    ]
    assert job_view.best_curve(make_job(summary=JobSummary(total=10, finished=3)), "max") == []


def test_best_curve_ends_at_the_tables_best_when_the_history_is_older() -> None:
    # The summary (polled every second) already holds a better score than the history
    # (refreshed every few seconds): the curve must not trail the Top-N table.
    job = make_job(summary=summary(entry(3, 0.95), entry(8, 0.4), finished=52))
    history = job.model_copy(update={"best_history": [(1, 0.2), (30, 0.9)]})
    curve = job_view.best_curve(history, "max")
    assert curve[-1] == {"finished": 52.0, "best": 0.95}
    assert curve[:2] == [{"finished": 1.0, "best": 0.2}, {"finished": 30.0, "best": 0.9}]
    lowest = make_job(summary=summary(entry(3, 0.1), entry(8, 0.4), finished=10))
    assert job_view.best_curve(lowest, "min")[-1] == {"finished": 10.0, "best": 0.1}


def test_chart_units_follow_the_table() -> None:
    points = [{"finished": 1.0, "best": 0.296885}, {"finished": 9.0, "best": 0.31}]
    assert job_view.chart_units(points, "maxDrawdown") == [
        {"finished": 1.0, "best": 29.69}, {"finished": 9.0, "best": 31.0}]
    assert job_view.chart_units(points, "sharpe")[0] == {"finished": 1.0, "best": 0.2969}


def test_close_scores_get_more_decimals_and_rows_link_to_their_combination() -> None:
    board = summary(entry(1, 0.3813, sharpe=0.3813, maxDrawdown=0.25),
                    entry(2, 0.3809, sharpe=0.3809), entry(3, 0.37, sharpe=0.37))
    rows = job_view.top_rows("job-1", board, "sharpe", "max")
    assert [r.score for r in rows] == ["0.3813", "0.3809", "0.3700"]
    assert [r.sharpe for r in rows] == ["0.3813", "0.3809", "0.3700"]  # the score's metric
    assert rows[0].max_drawdown == "25.00%"
    assert rows[0].href == "/optimizations/job-1/combinations/1"
    board = summary(entry(1, 0.381231), entry(2, 0.381229))
    assert [r.score for r in job_view.top_rows("j", board, "sharpe", "max")] == [
        "0.381231", "0.381229"]
    assert "best Sharpe ratio 0.381231." in job_view.final_numbers(board, "sharpe", "max")


def test_rows_with_identical_trades_are_grouped_under_the_first() -> None:
    same = {"sharpe": 0.5, "trades": 7.0, "totalReturn": 0.1}
    board = summary(
        entry(4, 0.5, **same), entry(9, 0.5, sharpe=0.5, trades=8.0), entry(5, 0.5, **same),
        entry(6, 0.5, **same), entry(1, 0.9, sharpe=0.9), entry(2, 0.2), entry(3, 0.2),
    )
    rows = job_view.top_rows("j", board, "sharpe", "max")
    assert [r.task for r in rows] == ["#1", "#4", "#5", "#6", "#9", "#2", "#3"]
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [(r.group, r.identical, r.member) for r in rows] == [
        (1, 0, False), (2, 2, False), (2, 0, True), (2, 0, True), (5, 0, False),
        (6, 0, False), (7, 0, False),  # no metrics known: never grouped
    ]
