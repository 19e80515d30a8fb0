"""The settings sections of the new-optimization form: objective, stop rules and backtest
options."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.form_fields import columns, field, section, select, text_input
from optimizer_app.ui.states.new_optimization import NewOptimizationState
from optimizer_app.ui.vocabulary import DIRECTIONS, METRICS, MODE_LABELS, SIZINGS

S = NewOptimizationState


def _set(key: str):  # noqa: ANN202 - an event callback
    return lambda value: S.set_value(key, value)  # type: ignore[operator]


def objective() -> rx.Component:
    metric_options = [(key, info.label) for key, info in METRICS.items()]
    return section(
        "Objective",
        "The metric that scores each combination, and which way is better.",
        columns(
            field(
                "Metric",
                select(
                    control_id="metric",
                    value=S.inputs.metric,
                    on_change=_set("metric"),
                    options=metric_options,
                ),
                control_id="metric",
                error=S.errors["metric"],
            ),
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
            field(
                "Top-N",
                text_input(
                    control_id="top-n",
                    value=S.inputs.top_n,
                    on_change=_set("top_n"),
                    input_mode="numeric",
                    invalid=S.errors["top_n"] != "",
                ),
                control_id="top-n",
                error=S.errors["top_n"],
                hint="How many of the best combinations to keep, with their equity and trades.",
            ),
            count=3,
        ),
    )


def stop_rules() -> rx.Component:
    return section(
        "Stop rules",
        "Optional. The job stops early when a rule is met; leave them empty to run every "
        "combination.",
        columns(
            field(
                "Target score",
                text_input(
                    control_id="target-score",
                    value=S.inputs.target_score,
                    on_change=_set("target_score"),
                    input_mode="decimal",
                    invalid=S.errors["target_score"] != "",
                ),
                control_id="target-score",
                error=S.errors["target_score"],
                optional=True,
                hint="Stop once the best score reaches this.",
            ),
            field(
                "Patience",
                text_input(
                    control_id="patience",
                    value=S.inputs.patience,
                    on_change=_set("patience"),
                    input_mode="numeric",
                    invalid=S.errors["patience"] != "",
                ),
                control_id="patience",
                error=S.errors["patience"],
                optional=True,
                hint="Stop after this many combinations without a new best.",
            ),
            field(
                "Minimum combinations",
                text_input(
                    control_id="min-tasks",
                    value=S.inputs.min_tasks,
                    on_change=_set("min_tasks"),
                    input_mode="numeric",
                    invalid=S.errors["min_tasks"] != "",
                ),
                control_id="min-tasks",
                error=S.errors["min_tasks"],
                optional=True,
                hint="Never stop before this many have finished.",
            ),
            count=3,
        ),
    )


def backtest_options() -> rx.Component:
    return section(
        "Backtest options",
        "How trades are simulated for every combination.",
        columns(
            field(
                "Initial cash",
                text_input(
                    control_id="initial-cash",
                    value=S.inputs.initial_cash,
                    on_change=_set("initial_cash"),
                    input_mode="decimal",
                    invalid=S.errors["initial_cash"] != "",
                ),
                control_id="initial-cash",
                error=S.errors["initial_cash"],
            ),
            field(
                "Commission (%)",
                text_input(
                    control_id="commission",
                    value=S.inputs.commission_pct,
                    on_change=_set("commission_pct"),
                    input_mode="decimal",
                    invalid=S.errors["commission_pct"] != "",
                ),
                control_id="commission",
                error=S.errors["commission_pct"],
                hint="Of each trade's value, paid on entry and exit.",
            ),
            field(
                "Slippage (%)",
                text_input(
                    control_id="slippage",
                    value=S.inputs.slippage_pct,
                    on_change=_set("slippage_pct"),
                    input_mode="decimal",
                    invalid=S.errors["slippage_pct"] != "",
                ),
                control_id="slippage",
                error=S.errors["slippage_pct"],
                hint="Price moved against each fill.",
            ),
            field(
                "Positions",
                select(
                    control_id="direction",
                    value=S.inputs.direction,
                    on_change=_set("direction"),
                    options=list(DIRECTIONS.items()),
                ),
                control_id="direction",
                error=S.errors["direction"],
            ),
            field(
                "Sizing",
                select(
                    control_id="sizing",
                    value=S.inputs.sizing,
                    on_change=_set("sizing"),
                    options=list(SIZINGS.items()),
                ),
                control_id="sizing",
                error=S.errors["sizing"],
            ),
            count=3,
        ),
    )
