"""The first sections of the new-optimization form: strategy and dataset (with upload), and
the parameter grid with its live combination count."""

from __future__ import annotations

from typing import Any

import reflex as rx

from optimizer_app.core.config import settings
from optimizer_app.ui.components.form_fields import field, field_error, section, select, text_input
from optimizer_app.ui.components.param_editor import param_editor
from optimizer_app.ui.states.new_optimization import UPLOAD_ID, Choice, NewOptimizationState
from optimizer_app.ui.theme import space

S = NewOptimizationState


def _set(key: str):  # noqa: ANN202 - an event callback
    return lambda value: S.set_value(key, value)  # type: ignore[operator]


def _strategy_item(choice: Choice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _dataset_item(choice: Choice) -> rx.Component:
    return rx.select.item(choice.label, value=choice.value)


def _upload_event() -> Any:
    return S.upload_dataset(rx.upload_files(upload_id=UPLOAD_ID))  # type: ignore[operator]


def upload_control() -> rx.Component:
    return rx.hstack(
        rx.upload.root(
            rx.button(
                rx.icon("upload", size=14),
                "Upload CSV",
                variant="soft",
                size="2",
                loading=S.uploading,
                type="button",
            ),
            id=UPLOAD_ID,
            accept={"text/csv": [".csv"], "text/plain": [".csv", ".txt"]},
            multiple=False,
            max_files=1,
            max_size=settings.upload_max_bytes,
            no_drag=True,
            on_drop=_upload_event(),
            border="none",
            padding="0",
        ),
        rx.text(
            "Your own daily bars: a CSV with columns date, open, high, low, close, volume.",
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        align="center",
        flex_wrap="wrap",
    )


def upload_feedback() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.upload_error != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("file-warning")),
                rx.vstack(
                    rx.callout.text(
                        rx.text("The file was not uploaded. ", weight="medium"), S.upload_error
                    ),
                    rx.cond(
                        S.has_upload_problems,
                        rx.unordered_list(
                            rx.foreach(S.upload_problems, lambda p: rx.list_item(p, size="2")),
                            margin_left=space(4),
                        ),
                    ),
                    spacing="1",
                ),
                color_scheme="red",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            S.upload_notice != "",
            rx.callout(S.upload_notice, icon="circle-check", color_scheme="green", width="100%"),
        ),
        rx.cond(S.uploaded_id != "", upload_names()),
    )


def upload_names() -> rx.Component:
    """Name and symbol of the dataset just uploaded, prefilled from its file name."""
    return rx.vstack(
        rx.grid(
            field("Dataset name", text_input(
                control_id="upload-name", value=S.upload_name,
                on_change=lambda v: S.set_upload_label("upload_name", v),  # type: ignore[operator]
            ), control_id="upload-name"),
            field("Symbol", text_input(
                control_id="upload-symbol", value=S.upload_symbol,
                on_change=lambda v: S.set_upload_label("upload_symbol", v),  # type: ignore[operator]
            ), control_id="upload-symbol"),
            columns=rx.breakpoints(initial="1", xs="2"),
            spacing="3",
            width="100%",
        ),
        field_error(S.upload_name_error),
        rx.hstack(
            rx.button("Save name and symbol", size="2", variant="soft", type="button",
                      on_click=S.save_upload_names),
            rx.text("Taken from the file name; change them if you like.", size="1",
                    color_scheme="gray"),
            spacing="3",
            align="center",
            flex_wrap="wrap",
        ),
        spacing="2",
        width="100%",
        padding=space(3),
        border="1px solid var(--gray-a5)",
        border_radius="var(--radius-3)",
    )


def strategy_and_data() -> rx.Component:
    return section(
        "Strategy and data",
        "What to test, on which prices.",
        field(
            "Name",
            text_input(
                control_id="job-name",
                value=S.inputs.name,
                on_change=_set("name"),
                placeholder=S.default_name,
                max_length=200,
            ),
            control_id="job-name",
            error=S.errors["name"],
            hint="Left empty, the job is named after its strategy and dataset.",
            optional=True,
        ),
        field(
            "Strategy",
            select(
                control_id="strategy",
                value=S.strategy,
                on_change=S.set_strategy,
                dynamic=(S.strategies, _strategy_item),
                placeholder="Choose a strategy",
            ),
            control_id="strategy",
            hint=S.strategy_description,
            error=S.errors["strategy"],
        ),
        field(
            "Dataset",
            select(
                control_id="dataset",
                value=S.dataset_id,
                on_change=S.set_dataset,
                dynamic=(S.datasets, _dataset_item),
                placeholder="Choose a dataset",
            ),
            control_id="dataset",
            hint=S.dataset_hint,
            error=S.errors["dataset"],
        ),
        upload_control(),
        upload_feedback(),
    )


def combinations_badge() -> rx.Component:
    return rx.badge(
        rx.icon("grid-3x3", size=14),
        S.combinations,
        color_scheme=rx.cond(S.grid_ok, "indigo", "red"),
        variant="soft",
        size="2",
        aria_live="polite",
    )


def parameter_grid() -> rx.Component:
    return section(
        "Parameter grid",
        "Every combination of these values is backtested. Give each parameter a range "
        "(start, stop and step, inclusive) or a list of values.",
        rx.foreach(S.param_fields, param_editor),
        rx.hstack(
            combinations_badge(),
            rx.cond(S.constraint != "", rx.text(S.constraint, size="1", color_scheme="gray")),
            spacing="3",
            align="center",
            flex_wrap="wrap",
        ),
        field_error(S.grid_message),
    )
