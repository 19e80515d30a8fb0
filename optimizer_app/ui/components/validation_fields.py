"""The new-optimization form's "Out-of-sample check" section: none, a hold-out (a share of
the last bars, or every bar from a date) or walk-forward folds; and how the Top-N is ranked
for reading (by score, or by its grid neighbours' mean score)."""

from __future__ import annotations

from collections.abc import Sequence

import reflex as rx

from optimizer_app.ui.components.form_fields import (
    Text,
    columns,
    field,
    section,
    select,
    text_input,
)
from optimizer_app.ui.states.new_optimization import NewOptimizationState
from optimizer_app.ui.validation_form import KINDS, RANK_BY, SPLITS

S = NewOptimizationState


def _set(key: str):  # noqa: ANN202 - an event callback
    return lambda value: S.set_check(key, value)  # type: ignore[operator]


def _choice(label: str, key: str, control_id: str, options: Sequence[tuple[str, str]],
            hint: str = "") -> rx.Component:
    return field(label, select(control_id=control_id, value=getattr(S.checks, key),
                               on_change=_set(key), options=options),
                 control_id=control_id, hint=hint)


def _number(label: str, key: str, control_id: str, hint: Text = "",
            input_mode: str = "numeric") -> rx.Component:
    return field(
        label,
        text_input(control_id=control_id, value=getattr(S.checks, key), on_change=_set(key),
                   input_mode=input_mode, invalid=S.check_errors[key] != ""),
        control_id=control_id, error=S.check_errors[key], hint=hint,
    )


def _holdout() -> rx.Component:
    return columns(
        _choice("Hold out", "split", "holdout-split", SPLITS),
        rx.cond(
            S.checks.split == "start",
            field("First out-of-sample day",
                  rx.input(id="holdout-start", type="date", value=S.checks.start,
                           on_change=_set("start"), width="100%", size="2"),
                  control_id="holdout-start", error=S.check_errors["start"],
                  hint="Every bar from this day on is kept out of sample."),
            _number("Out of sample (%)", "holdout_pct", "holdout-pct", input_mode="decimal",
                    hint="This share of the last bars is kept out of sample (up to 90%)."),
        ),
        count=2,
    )


def _walkforward() -> rx.Component:
    return columns(
        _number("Folds", "folds", "wf-folds", hint=S.folds_text),
        _number("Training bars", "train_bars", "wf-train", hint="At least 50."),
        _number("Test bars", "test_bars", "wf-test", hint="At least 50."),
        _choice("Training window", "anchored", "wf-anchored",
                [("false", "Rolling"), ("true", "Anchored (growing)")]),
        count=2,
    )


def validation_settings() -> rx.Component:
    return section(
        "Out-of-sample check",
        "Optional. Hold-out scores the grid without the last bars, then backtests the Top-N "
        "on them; walk-forward picks the best combination on each training window and tests "
        "it on the bars that follow.",
        columns(
            _choice("Check", "kind", "validation-kind", KINDS),
            _choice("Rank results by", "rank_by", "rank-by", RANK_BY,
                    hint="Neighbourhood mean ranks a plateau above a spike."),
            count=2,
        ),
        rx.match(
            S.checks.kind,
            ("holdout", _holdout()),
            ("walkforward", _walkforward()),
            rx.fragment(),
        ),
    )
