"""The root URL leads to the history."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.brand import PRODUCT_NAME
from optimizer_app.ui.layout import loading_screen, page


@page(
    routes.INDEX,
    PRODUCT_NAME,
    protected=False,
    on_load=[rx.redirect(routes.HISTORY, replace=True)],
)
def index_page() -> rx.Component:
    return loading_screen()
