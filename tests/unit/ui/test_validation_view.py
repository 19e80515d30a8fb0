"""The validation cards' rows and the form's validation fields (pure functions)."""

from __future__ import annotations

import pytest

from optimizer_app.ui.validation_form import (
    ValidationInputs,
    folds_text,
    inputs_from_job,
    validation_body,
)
from optimizer_app.ui.validation_view import change, settings_text, stability_rows, validation_view

HOLDOUT_ANSWER = {
    "kind": "holdout", "status": "done", "metric": "sharpe", "mode": "max",
    "settings": {"kind": "holdout", "fraction": 0.3},
    "inSample": {"start": "2004-08-19", "end": "2011-01-05", "bars": 1604},
    "outOfSample": {"start": "2011-01-06", "end": "2013-03-01", "bars": 544},
    "rows": [{"rank": 1, "index": 4, "params": {"fast": 10, "slow": 60},
              "inSample": {"totalReturn": 1.2345, "sharpe": 1.1},
              "outOfSample": {"totalReturn": -0.05, "sharpe": 0.4, "maxDrawdown": 0.2,
                              "trades": 1234},
              "inSampleScore": 1.1, "outOfSampleScore": 0.4}],
}


def test_a_holdout_answer_becomes_readable_rows_and_points() -> None:
    view = validation_view(HOLDOUT_ANSWER)
    assert view.settings_text == "Hold-out: the last 30% of the bars"
    assert "1,604 bars" in view.split_text and "Sharpe ratio" in view.split_text
    row = view.holdout[0]
    assert (row.params, row.in_score, row.out_score) == ("fast 10 · slow 60", "1.10", "0.40")
    assert (row.change, row.change_color) == ("-0.70", "red")
    assert (row.in_return, row.out_return, row.out_trades) == ("123.45%", "-5.00%", "1,234")
    assert view.scatter == [{"inSample": 1.1, "outOfSample": 0.4, "rank": 1}]
    assert view.sample == []


def test_change_is_green_when_it_improves_for_the_mode() -> None:
    assert change("maxDrawdown", "min", 0.3, 0.2) == ("-10.00%", "green")
    assert change("sharpe", "max", 1.0, 1.5) == ("+0.50", "green")
    assert change("sharpe", "max", None, 1.5)[1] == "gray"


def test_pending_and_failed_answers_say_so() -> None:
    pending = validation_view({"kind": "walkforward", "status": "pending",
                               "settings": {"kind": "walkforward", "folds": 5, "trainBars": 750,
                                            "testBars": 250, "anchored": False},
                               "progress": {"folds": [{"fold": 1, "done": 1750, "total": 1750},
                                                      {"fold": 2, "done": 3, "total": 1750}]}})
    assert pending.progress_text == "Fold 1: 1,750 / 1,750 · Fold 2: 3 / 1,750"
    assert pending.settings_text.startswith("Walk-forward: 5 rolling folds of 750 training")
    failed = validation_view({"kind": "holdout", "status": "failed", "error": "boom"})
    assert failed.error == "boom"


def test_a_walkforward_answer_thins_its_curve() -> None:
    n = 2000
    view = validation_view({
        "kind": "walkforward", "status": "done", "metric": "sharpe", "mode": "max",
        "settings": {"kind": "walkforward", "folds": 1, "trainBars": 500, "testBars": n},
        "folds": [{"fold": 1, "train": {"start": "a", "end": "b", "bars": 500},
                   "test": {"start": "c", "end": "d", "bars": n}, "params": None}],
        "stitched": {"dates": [str(i) for i in range(n)], "equity": [1.0] * n,
                     "benchmark": [2.0] * n},
        "efficiency": 0.5, "outOfSampleAnnualizedReturn": 0.05,
        "inSampleAnnualizedReturn": 0.1,
    })
    assert view.folds[0].params == "none passed the constraints"
    assert len(view.curve) <= 601 and view.curve[-1]["date"] == str(n - 1)
    assert (view.efficiency, view.out_annual, view.in_annual) == ("0.50", "5.00%", "10.00%")


def test_stability_rows_are_formatted() -> None:
    rows = stability_rows({"metric": "sharpe", "data": [
        {"rank": 2, "params": {"fast": 5}, "score": 1.0, "neighbourMean": 0.5,
         "neighbourWorst": None, "neighbours": 0}]})
    assert (rows[0].rank, rows[0].mean, rows[0].worst, rows[0].neighbours) == (2, "0.50", "–", "0")


def test_settings_text_of_a_start_date() -> None:
    assert settings_text({"kind": "holdout", "start": "2012-01-01"}) == (
        "Hold-out: every bar from 2012-01-01")


@pytest.mark.parametrize(("inputs", "expected"), [
    (ValidationInputs(), None),
    (ValidationInputs(kind="holdout"), {"kind": "holdout", "fraction": 0.3}),
    (ValidationInputs(kind="holdout", split="start", start="2012-01-01"),
     {"kind": "holdout", "start": "2012-01-01"}),
    (ValidationInputs(kind="walkforward", anchored="true"),
     {"kind": "walkforward", "folds": 5, "trainBars": 750, "testBars": 250, "anchored": True}),
])
def test_the_form_builds_the_validation(inputs: ValidationInputs, expected: dict | None) -> None:
    body, errors = validation_body(inputs)
    assert errors == {} and body == expected
    again = inputs_from_job(body, "score")
    assert validation_body(again) == (expected, {})


@pytest.mark.parametrize(("inputs", "field"), [
    (ValidationInputs(kind="holdout", holdout_pct="95"), "holdout_pct"),
    (ValidationInputs(kind="holdout", holdout_pct="a lot"), "holdout_pct"),
    (ValidationInputs(kind="holdout", split="start", start="soon"), "start"),
    (ValidationInputs(kind="walkforward", train_bars="10"), "train_bars"),
    (ValidationInputs(kind="walkforward", folds="x"), "folds"),
])
def test_the_form_says_which_field_is_wrong(inputs: ValidationInputs, field: str) -> None:
    body, errors = validation_body(inputs)
    assert body is None and set(errors) == {field}


def test_folds_text_counts_what_a_walkforward_runs() -> None:
    assert folds_text(ValidationInputs(folds="5"), 1203) == (
        "5 folds × 1,203 combinations = 6,015 to run.")
    assert folds_text(ValidationInputs(folds="x"), 10) == "Each fold runs the whole grid."
    assert folds_text(ValidationInputs(folds="3"), None) == "Each fold runs the whole grid."
