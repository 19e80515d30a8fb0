"""New optimization: choose a strategy, a dataset and a parameter grid."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.page_header import page_header
from optimizer_app.ui.layout import page


@page(routes.NEW, "New optimization")
def new_optimization_page() -> rx.Component:
    return page_header(
        "New optimization",
        "Choose a strategy, a dataset and the parameter grid to search.",
    )
