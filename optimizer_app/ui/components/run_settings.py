"""The settings sections of the new-optimization form: objective, result constraints, stop
rules and backtest options."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import reflex as rx

from optimizer_app.ui.components.form_fields import (
    SEGMENTS_STYLE,
    columns,
    field,
    field_error,
    section,
    select,
    text_input,
)
from optimizer_app.ui.states.new_optimization import ConstraintInput, NewOptimizationState
from optimizer_app.ui.vocabulary import DIRECTIONS, METRICS, MODE_LABELS, SIZINGS

S = NewOptimizationState


def _set(key: str):  # noqa: ANN202 - an event callback
    return lambda value: S.set_value(key, value)  # type: ignore[operator]


def _number(label: str, key: str, control_id: str, *, input_mode: str = "decimal",
            hint: str = "", optional: bool = False) -> rx.Component:
    """A labelled text box for a number of the form's ``key``, with its error."""
    return field(
        label,
        text_input(
            control_id=control_id,
            value=getattr(S.inputs, key),
            on_change=_set(key),
            input_mode=input_mode,
            invalid=S.errors[key] != "",
        ),
        control_id=control_id,
        error=S.errors[key],
        hint=hint,
        optional=optional,
    )


def _choice(label: str, key: str, control_id: str, options: Sequence[tuple[str, str]]
            ) -> rx.Component:
    """A labelled select of the form's ``key`` over (value, label) ``options``."""
    return field(
        label,
        select(control_id=control_id, value=getattr(S.inputs, key), on_change=_set(key),
               options=options),
        control_id=control_id,
        error=S.errors[key],
    )


def objective() -> rx.Component:
    return section(
        "Objective",
        "The metric that scores each combination, and which way is better.",
        columns(
            _choice("Metric", "metric", "metric",
                    [(key, info.label) for key, info in METRICS.items()]),
            field(
                "Direction",
                rx.segmented_control.root(
                    *[
                        rx.segmented_control.item(label, value=key)
                        for key, label in MODE_LABELS.items()
                    ],
                    id="mode",
                    value=S.inputs.mode,
                    on_change=_set("mode"),
                    width="100%",
                    style=SEGMENTS_STYLE,
                ),
                control_id="mode",
                hint=S.direction,
                error=S.errors["mode"],
            ),
            _number("Top-N", "top_n", "top-n", input_mode="numeric",
                    hint="How many of the best combinations to keep, with their equity and "
                    "trades."),
            count=3,
        ),
    )


def stop_rules() -> rx.Component:
    return section(
        "Stop rules",
        "Optional. The job stops early when a rule is met; leave them empty to run every "
        "combination.",
        columns(
            _number("Target score", "target_score", "target-score", optional=True,
                    hint="Stop once the best score reaches this."),
            _number("Patience", "patience", "patience", input_mode="numeric", optional=True,
                    hint="Stop after this many combinations without a new best."),
            _number("Minimum combinations", "min_tasks", "min-tasks", input_mode="numeric",
                    optional=True, hint="Never stop before this many have finished."),
            count=3,
        ),
    )


def backtest_options() -> rx.Component:
    return section(
        "Backtest options",
        "How trades are simulated for every combination.",
        columns(
            _number("Initial cash", "initial_cash", "initial-cash"),
            _number("Commission (%)", "commission_pct", "commission",
                    hint="Of each trade's value, paid on entry and exit."),
            _number("Slippage (%)", "slippage_pct", "slippage",
                    hint="Price moved against each fill."),
            _choice("Positions", "direction", "direction", list(DIRECTIONS.items())),
            _choice("Sizing", "sizing", "sizing", list(SIZINGS.items())),
            count=3,
        ),
    )


_OPS = [(">=", "at least (≥)"), ("<=", "at most (≤)"), (">", "more than (>)"),
        ("<", "less than (<)")]


def _constraint_row(row: ConstraintInput, index: Any) -> rx.Component:
    """One row; ``index`` is the row's position (a number var of the foreach)."""
    number = index + 1
    return rx.grid(
        rx.box(
            select(control_id="constraint-metric-" + index.to_string(), value=row.metric,
                   on_change=lambda value: S.set_constraint(index, "metric", value),  # type: ignore[operator]
                   options=[(key, info.label) for key, info in METRICS.items()],
                   aria_label="Constraint " + number.to_string() + " metric"),
            grid_column=rx.breakpoints(initial="1 / -1", sm="auto"),
        ),
        select(control_id="constraint-op-" + index.to_string(), value=row.op,
               on_change=lambda value: S.set_constraint(index, "op", value),  # type: ignore[operator]
               options=_OPS, aria_label="Constraint " + number.to_string() + " comparison"),
        rx.vstack(
            text_input(control_id="constraint-value-" + index.to_string(), value=row.value,
                       on_change=lambda value: S.set_constraint(index, "value", value),  # type: ignore[operator]
                       input_mode="decimal", invalid=row.error != "",
                       aria_label="Constraint " + number.to_string() + " value"),
            field_error(row.error),
            spacing="1",
            width="100%",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            variant="ghost",
            color_scheme="gray",
            on_click=S.remove_constraint(index),  # type: ignore[operator]
            aria_label="Remove constraint " + number.to_string(),
        ),
        # On a phone the metric takes a line of its own; the comparison and value share the next.
        columns=rx.breakpoints(initial="minmax(0, 1.4fr) minmax(0, 1fr) auto",
                               sm="minmax(0, 2fr) minmax(0, 1.4fr) minmax(0, 1fr) auto"),
        spacing="2",
        align_items="start",
        width="100%",
    )


def result_constraints() -> rx.Component:
    return section(
        "Result constraints",
        "A combination that fails one still runs and is counted, but never ranked: the "
        "Top-N and the stop rules see only those that pass. Percentages as fractions "
        "(0.3 = 30%).",
        rx.vstack(
            rx.foreach(S.result_constraints, _constraint_row),
            rx.button(
                rx.icon("plus", size=14),
                "Add constraint",
                variant="soft",
                size="2",
                on_click=S.add_constraint,
                type="button",
            ),
            spacing="3",
            width="100%",
        ),
    )
