"""A job status as a badge: each status has its own label, colour and icon."""

from __future__ import annotations

import reflex as rx

from optimizer_app.ui.components.form_fields import Text
from optimizer_app.ui.vocabulary import STATUSES


def _badge(status: str, size: str) -> rx.Component:
    style = STATUSES[status]
    return rx.badge(
        rx.icon(style.icon, size=12),
        style.label,
        color_scheme=style.color,
        variant="soft",
        radius="full",
        size=size,
        white_space="nowrap",
        custom_attrs={"data-status": status},
    )


def status_badge(status: Text, size: str = "2") -> rx.Component:
    return rx.match(
        status,
        *[(name, _badge(name, size)) for name in STATUSES],
        rx.badge(status, color_scheme="gray", variant="soft", radius="full", size=size),
    )
