"""Importing this package registers every page with the layout's ``@page`` decorator."""

from optimizer_app.ui.pages import (  # noqa: F401
    combination,
    history,
    index,
    job_detail,
    new_optimization,
    sign_in,
    sign_up,
    usage,
)
