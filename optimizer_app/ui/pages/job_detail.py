"""Detail of one optimization job: progress, Top-N and actions."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.page_header import page_header
from optimizer_app.ui.layout import page


@page(routes.JOB_DETAIL, "Optimization")
def job_detail_page() -> rx.Component:
    return page_header("Optimization", "Progress and the best combinations found so far.")
