"""Pieces of the sign-in and sign-up pages: a centred card, labelled fields, the error callout."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.brand import brand
from optimizer_app.ui.states.auth import AuthState
from optimizer_app.ui.theme import PAGE_BACKGROUND, space


def labelled_input(
    label: str, *, name: str, type_: str, autocomplete: str, hint: str = ""
) -> rx.Component:
    field_id = f"auth-{name}"
    return rx.vstack(
        rx.el.label(
            rx.text(label, size="2", weight="medium"),
            html_for=field_id,
        ),
        rx.input(
            id=field_id,
            name=name,
            type=type_,
            auto_complete=autocomplete,
            required=True,
            size="3",
            width="100%",
        ),
        *([rx.text(hint, size="1", color_scheme="gray")] if hint else []),
        spacing="1",
        width="100%",
    )


def form_error() -> rx.Component:
    return rx.cond(
        AuthState.form_error != "",
        rx.callout(
            AuthState.form_error,
            icon="circle-alert",
            color_scheme="red",
            role="alert",
            size="1",
            width="100%",
        ),
    )


def auth_page(
    *, title: str, subtitle: str, form: rx.Component, footer: rx.Component
) -> rx.Component:
    return rx.center(
        rx.vstack(
            brand(size="5"),
            rx.card(
                rx.vstack(
                    rx.vstack(
                        rx.heading(title, size="6", as_="h1"),
                        rx.text(subtitle, size="2", color_scheme="gray"),
                        spacing="1",
                    ),
                    form,
                    spacing="5",
                    width="100%",
                ),
                size="4",
                width="100%",
            ),
            footer,
            align="center",
            spacing="5",
            width="100%",
            max_width="400px",
        ),
        min_height="100vh",
        padding=space(6),
        background=PAGE_BACKGROUND,
    )


def submit_button(label: str) -> rx.Component:
    return rx.button(
        label,
        type="submit",
        size="3",
        width="100%",
        loading=AuthState.submitting,
    )
