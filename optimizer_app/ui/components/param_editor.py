"""One parameter's range editor: a range (start, stop, step) or a list of values, with the
declared bounds as a hint and the problem, if any, underneath."""

from __future__ import annotations

from typing import Any

import reflex as rx

from optimizer_app.ui.components.form_fields import SEGMENTS_STYLE, field_error
from optimizer_app.ui.states.new_optimization import NewOptimizationState
from optimizer_app.ui.theme import BORDER, space


def _on_param(index: Any, key: str) -> Any:
    """An on_change callback setting ``key`` of the parameter at ``index``."""
    return lambda value: NewOptimizationState.set_param(index, key, value)  # type: ignore[operator]


def _wrong(param: Any, key: str) -> Any:
    """Whether the editor's problem is about its input ``key``."""
    return (param.error != "") & (param.error_field == key)


def _input_error(param: Any, key: str) -> rx.Component:
    return rx.cond(_wrong(param, key), field_error(param.error))


def _number(param: Any, index: Any, key: str, label: str) -> rx.Component:
    wrong = _wrong(param, key)
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", as_="span"),
        rx.input(
            value=getattr(param, key),
            on_change=_on_param(index, key),
            aria_label=param.label + " " + key,
            input_mode=rx.cond(param.type == "int", "numeric", "decimal"),
            color_scheme=rx.cond(wrong, "red", "gray"),
            custom_attrs={"aria-invalid": rx.cond(wrong, "true", "false")},
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def _range_inputs(param: Any, index: Any) -> rx.Component:
    # the problem goes right under the three inputs, naming the one marked in red
    return rx.vstack(
        rx.grid(
            _number(param, index, "start", "Start"),
            _number(param, index, "stop", "Stop"),
            _number(param, index, "step", "Step"),
            columns="3",
            spacing="3",
            width="100%",
        ),
        *[_input_error(param, key) for key in ("start", "stop", "step")],
        spacing="1",
        width="100%",
    )


def _values_input(param: Any, index: Any) -> rx.Component:
    return rx.vstack(
        rx.text("Values, separated by commas", size="1", color_scheme="gray", as_="span"),
        rx.input(
            value=param.listed,
            on_change=_on_param(index, "listed"),
            aria_label=param.label + " values",
            placeholder="e.g. 5, 10, 20",
            color_scheme=rx.cond(_wrong(param, "values"), "red", "gray"),
            custom_attrs={"aria-invalid": rx.cond(_wrong(param, "values"), "true", "false")},
            width="100%",
        ),
        _input_error(param, "values"),
        spacing="1",
        width="100%",
    )


def param_editor(param: Any, index: Any) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.text(param.label, size="2", weight="medium"),
                rx.text(param.description, " · ", param.allowed, size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("Range", value="range"),
                rx.segmented_control.item("Values", value="values"),
                value=param.kind,
                on_change=_on_param(index, "kind"),
                size="1",
                aria_label=param.label + " input mode",
                style=SEGMENTS_STYLE,
                flex_shrink="0",
            ),
            align="start",
            width="100%",
            spacing="3",
        ),
        rx.box(
            rx.cond(
                param.kind == "values", _values_input(param, index), _range_inputs(param, index)
            ),
            margin_top=space(3),
        ),
        # a problem of the parameter as a whole (e.g. from the server) under the editor
        rx.cond(param.error_field == "", rx.box(field_error(param.error), margin_top=space(2))),
        padding=space(4),
        border=BORDER,
        border_radius="var(--radius-3)",
        border_color=rx.cond((param.error != "") & (param.error_field == ""), "var(--red-7)",
                             "var(--gray-a5)"),
        width="100%",
    )
