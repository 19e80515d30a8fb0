"""The look of the app: one Radix theme and a few shared style values."""

from __future__ import annotations

import reflex as rx

THEME = rx.theme(
    appearance="light",
    accent_color="indigo",
    gray_color="slate",
    radius="medium",
    scaling="100%",
    has_background=True,
)

PAGE_BACKGROUND = "var(--gray-2)"
PANEL_BACKGROUND = "var(--color-panel-solid)"
BORDER = "1px solid var(--gray-a5)"
CONTENT_MAX_WIDTH = "1120px"

GLOBAL_STYLE: dict = {
    "body": {"background": PAGE_BACKGROUND},
}


def space(step: int) -> str:
    """A Radix spacing step (1-9) as a CSS value, for style props such as padding."""
    return f"var(--space-{step})"
