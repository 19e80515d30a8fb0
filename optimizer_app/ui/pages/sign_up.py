"""Create an account with email and password."""

from __future__ import annotations

import reflex as rx

from optimizer_app.services.auth import MIN_PASSWORD
from optimizer_app.ui import routes
from optimizer_app.ui.components.auth_form import (
    auth_page,
    form_error,
    labelled_input,
    submit_button,
)
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.auth import AuthState


@page(routes.SIGN_UP, "Create account", protected=False, on_load=[AuthState.open_auth_page])
def sign_up_page() -> rx.Component:
    return auth_page(
        title="Create your account",
        subtitle="Search strategy parameter grids in minutes.",
        form=rx.form(
            rx.vstack(
                labelled_input("Email", name="email", type_="email", autocomplete="email"),
                labelled_input(
                    "Password",
                    name="password",
                    type_="password",
                    autocomplete="new-password",
                    hint=f"At least {MIN_PASSWORD} characters, not a commonly used password.",
                ),
                form_error(),
                submit_button("Create account"),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthState.sign_up,
            reset_on_submit=False,
            width="100%",
        ),
        footer=rx.text(
            "Already have an account? ",
            rx.link("Sign in", href=routes.SIGN_IN, weight="medium", color_scheme="indigo"),
            size="2",
            color_scheme="gray",
        ),
    )
