"""The settings sections of the new-optimization form: objective, stop rules and backtest
options."""

from __future__ import annotations

from collections.abc import Sequence

import reflex as rx

from optimizer_app.ui.components.form_fields import columns, field, section, select, text_input
from optimizer_app.ui.states.new_optimization import NewOptimizationState
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
