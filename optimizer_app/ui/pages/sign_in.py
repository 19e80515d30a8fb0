"""Sign in with email and password."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.auth_form import (
    auth_page,
    form_error,
    labelled_input,
    submit_button,
)
from optimizer_app.ui.layout import page
from optimizer_app.ui.states.auth import AuthState


@page(routes.SIGN_IN, "Sign in", protected=False, on_load=[AuthState.open_auth_page])
def sign_in_page() -> rx.Component:
    return auth_page(
        title="Sign in",
        subtitle="Welcome back. Sign in to continue.",
        form=rx.form(
            rx.vstack(
                labelled_input("Email", name="email", type_="email", autocomplete="email"),
                labelled_input(
                    "Password", name="password", type_="password", autocomplete="current-password"
                ),
                form_error(),
                submit_button("Sign in"),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthState.sign_in,
            reset_on_submit=False,
            width="100%",
        ),
        footer=rx.text(
            "New to Grid Optimizer? ",
            rx.link(
                "Create an account", href=routes.SIGN_UP, weight="medium", color_scheme="indigo"
            ),
            size="2",
            color_scheme="gray",
        ),
    )
