"""Page states driven directly (no server): their handlers and derived values."""

from __future__ import annotations

import uuid

import pytest

from optimizer_app.core.errors import ValidationError
from optimizer_app.services.schemas import JobSummary
from optimizer_app.services.strategies import list_strategies
from optimizer_app.ui.states.history import HistoryState, history_row
from optimizer_app.ui.states.job_detail import JobDetailState, job_id_from_path
from optimizer_app.ui.states.new_optimization import Choice, NewOptimizationState
from tests.unit.ui.factories import entry, make_job

DATASET = "00000000-0000-0000-0000-0000000000d1"


def handler(state_class: type, name: str):  # noqa: ANN201
    return state_class.event_handlers[name].fn


@pytest.fixture
def form_state() -> NewOptimizationState:
    """The form as ``load`` leaves it: catalog known, first strategy chosen."""
    state = NewOptimizationState()
    catalog = list_strategies()
    state._specs = {s.name: s.params for s in catalog.data}
    state._constraints = {s.name: s.constraint or "" for s in catalog.data}
    state.strategies = [Choice(s.name, s.label, s.description, s.label) for s in catalog.data]
    state.datasets = [Choice(DATASET, "Google (GOOG) daily", "", "GOOG")]
    state.dataset_id = DATASET
    handler(NewOptimizationState, "set_strategy")(state, "sma_cross")
    return state


def test_choosing_a_metric_sets_its_usual_direction(form_state: NewOptimizationState) -> None:
    set_value = handler(NewOptimizationState, "set_value")
    set_value(form_state, "metric", "maxDrawdown")
    assert form_state.inputs.mode == "min"
    assert form_state.direction == "Lower is better"
    set_value(form_state, "mode", "max")  # the user may still overrule it
    assert form_state.inputs.mode == "max"
    set_value(form_state, "not_a_field", "x")
    assert not hasattr(form_state.inputs, "not_a_field")


def test_editing_a_range_updates_the_count_and_the_errors(
    form_state: NewOptimizationState,
) -> None:
    set_param = handler(NewOptimizationState, "set_param")
    for key, value in (("start", "5"), ("stop", "20"), ("step", "5")):
        set_param(form_state, 0, key, value)
    for key, value in (("start", "10"), ("stop", "40"), ("step", "5")):
        set_param(form_state, 1, key, value)
    assert form_state.combinations == "22 combinations (max 10,000,000)"
    assert form_state.grid_ok
    set_param(form_state, 0, "start", "x")
    assert not form_state.grid_ok
    assert form_state.param_fields[0].error == "Start must be a number, not “x”"
    assert form_state.param_fields[0].error_field == "start"
    assert form_state.param_fields[1].error == ""
    set_param(form_state, 7, "start", "1")  # out of range positions are ignored
    set_param(form_state, 0, "name", "evil")  # so are other attributes
    assert form_state.params[0].name == "fast"


def test_the_body_uses_a_readable_default_name(form_state: NewOptimizationState) -> None:
    assert form_state.default_name == "SMA crossover on GOOG"
    body = form_state._body()
    assert body is not None
    assert body.name == "SMA crossover on GOOG"
    assert body.dataset_id == uuid.UUID(DATASET)
    assert body.early_stop_policy == {"metric": "sharpe", "mode": "max", "topN": 10}
    assert body.backtest_options["commission"] == 0.002
    assert body.source_job_id is None


def test_the_body_is_refused_while_a_field_is_wrong(form_state: NewOptimizationState) -> None:
    handler(NewOptimizationState, "set_value")(form_state, "top_n", "0")
    assert form_state.errors["top_n"] == "Keep between 1 and 100 best combinations."
    assert form_state._body() is None
    assert form_state.submit_error.startswith("Fix the fields marked in red")


def test_server_problems_are_shown_by_their_fields(form_state: NewOptimizationState) -> None:
    form_state._show_server_problems(
        ValidationError(
            "the job is invalid",
            details=[
                {"field": "paramSpace.slow.stop", "problem": "too big"},
                {"field": "backtestOptions.slippage", "problem": "too much"},
            ],
        )
    )
    assert form_state.param_fields[1].error == "Stop: too big."
    assert form_state.errors["slippage_pct"] == "Too much."
    handler(NewOptimizationState, "set_param")(form_state, 1, "stop", "40")
    assert form_state.param_fields[1].error == ""


def test_detail_url_gives_the_job_id() -> None:
    job_id = uuid.uuid4()
    assert job_id_from_path(f"/optimizations/{job_id}") == job_id
    assert job_id_from_path(f"/optimizations/{job_id}/") == job_id
    assert job_id_from_path("/optimizations/new") is None
    assert job_id_from_path("/optimizations/not-a-job") is None


def test_detail_state_shows_a_canceled_job_with_its_final_numbers() -> None:
    state = JobDetailState()
    board = JobSummary(
        total=196_196,
        finished=50_312,
        failed=0,
        top_n=[entry(4, 0.5, sharpe=0.5), entry(9, 0.9, sharpe=0.9)],
    )
    state._show_job(make_job(status="canceled", summary=board))
    assert (state.status, state.live, state.progress_text) == (
        "canceled",
        False,
        "50,312 / 196,196",
    )
    assert state.progress_value == 26
    assert state.banner_title == "Canceled"
    assert "50,312 of 196,196 combinations finished" in state.banner_text
    assert [row.rank for row in state.top] == [1, 2]
    assert [row.task for row in state.top] == ["#9", "#4"]
    assert state.sort_label == "Ranked by Sharpe ratio: higher is better"
    assert state.rerun_href == f"/optimizations/new?source={state.job_key}"


def test_identical_rows_open_and_close_and_the_go_to_field_checks_the_grid() -> None:
    state = JobDetailState()
    same = {"sharpe": 0.5, "trades": 7.0}
    board = JobSummary(total=22, finished=22, top_n=[
        entry(1, 0.5, **same), entry(2, 0.5, **same), entry(3, 0.5, **same), entry(4, 0.1)])
    state._show_job(make_job(summary=board))
    assert [r.task for r in state.shown_top] == ["#1", "#4"]
    assert state.top[0].identical == 2
    toggle = handler(JobDetailState, "toggle_group")
    toggle(state, 1)
    assert [r.task for r in state.shown_top] == ["#1", "#2", "#3", "#4"]
    toggle(state, 1)
    assert [r.task for r in state.shown_top] == ["#1", "#4"]

    go = handler(JobDetailState, "go_to_combination")
    handler(JobDetailState, "set_goto_text")(state, "22")
    assert go(state) is None
    assert state.goto_error == (
        "This optimization has 22 combinations, numbered 0 to 21; 22 is not one of them.")
    handler(JobDetailState, "set_goto_text")(state, "#21")
    assert state.goto_error == ""
    assert go(state) is not None and state.goto_error == ""


def test_detail_polling_stops_for_an_older_load() -> None:
    state = JobDetailState()
    state._show_job(make_job(status="running"))
    state._generation = 3
    assert not state._still_watching(2)


def test_history_rows_are_display_ready() -> None:
    source = uuid.uuid4()
    job = make_job(
        status="running",
        best_score=0.1234,
        source_job_id=source,
        source_job_name="Story small",
        summary=JobSummary(total=5000, finished=1200, failed=34),
    )
    row = history_row(job)
    assert (row.strategy, row.status, row.progress, row.progress_value) == (
        "SMA crossover",
        "running",
        "1,234 / 5,000",
        25,
    )
    assert (row.best_score, row.metric) == ("0.12", "Sharpe")
    assert (row.created_day, row.created_time) == ("5 Mar 2026", "14:00 UTC")
    assert (row.source_name, row.source_href) == ("Story small", f"/optimizations/{source}")
    assert row.rerun_href == f"/optimizations/new?source={job.id}"
    assert history_row(make_job()).best_score == "–"


def test_history_pages() -> None:
    state = HistoryState()
    state.rows = [history_row(make_job()) for _ in range(20)]
    state.total, state.page = 45, 1
    assert state.page_text == "21–40 of 45 optimizations"
    assert (state.page_count, state.has_previous, state.has_next) == (3, True, True)
    assert not state.any_live
