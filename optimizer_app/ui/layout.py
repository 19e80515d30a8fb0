"""The one way a page joins the app: ``@page(route, title)`` records it with its title and
on_load events, and wraps protected pages in the app shell (top navigation and user menu).
The composition root calls ``register_pages(app)`` once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import reflex as rx

from optimizer_app.ui import routes
from optimizer_app.ui.components.brand import PRODUCT_NAME, brand
from optimizer_app.ui.states.auth import AuthState
from optimizer_app.ui.theme import (
    BORDER,
    CONTENT_MAX_WIDTH,
    PAGE_BACKGROUND,
    PANEL_BACKGROUND,
    space,
)

PageRender = Callable[[], rx.Component]


@dataclass(frozen=True)
class PageSpec:
    route: str
    title: str
    render: PageRender
    on_load: tuple = ()
    protected: bool = True


_PAGES: dict[str, PageSpec] = {}


def page(
    route: str, title: str, *, protected: bool = True, on_load: Sequence = ()
) -> Callable[[PageRender], PageRender]:
    """Register a page. Protected pages (the default) need a session: a signed-out visitor is
    sent to sign-in and brought back afterwards. ``on_load`` runs after the session check."""

    def decorator(render: PageRender) -> PageRender:
        if route in _PAGES:
            raise ValueError(f"two pages claim the route {route!r}")
        _PAGES[route] = PageSpec(route, title, render, tuple(on_load), protected)
        return render

    return decorator


def register_pages(app: rx.App) -> None:
    for spec in _PAGES.values():
        session_check = [AuthState.require_session] if spec.protected else []
        app.add_page(
            _shell_for(spec),
            route=spec.route,
            title=spec.title if spec.title == PRODUCT_NAME else f"{spec.title} · {PRODUCT_NAME}",
            on_load=[*session_check, *spec.on_load] or None,
        )


def _shell_for(spec: PageSpec) -> PageRender:
    if not spec.protected:
        return spec.render

    def render() -> rx.Component:
        return app_shell(spec.render())

    render.__name__ = spec.render.__name__
    return render


def app_shell(content: rx.Component) -> rx.Component:
    """Top navigation over the page content; a spinner until the session is confirmed, so a
    signed-out visitor never sees a protected page flash before the redirect."""
    return rx.cond(
        AuthState.signed_in,
        rx.box(
            top_navigation(),
            rx.box(
                rx.el.main(content),
                width="100%",
                max_width=CONTENT_MAX_WIDTH,
                margin_x="auto",
                padding_x=[space(4), space(6)],
                padding_y=space(6),
            ),
            min_height="100vh",
            background=PAGE_BACKGROUND,
        ),
        # Also shown when the session ends in another tab: checking again sends this one to
        # sign-in too.
        loading_screen(on_mount=AuthState.check_session_ended),
    )


def loading_screen(**events: Any) -> rx.Component:
    return rx.center(
        rx.spinner(size="3"),
        height="100vh",
        background=PAGE_BACKGROUND,
        aria_busy="true",
        **events,
    )


def top_navigation() -> rx.Component:
    path = rx.State.router.url.path
    on_new = (path == routes.NEW) | (path == routes.NEW + "/")
    on_history = path.startswith(routes.HISTORY) & ~on_new
    on_usage = path.startswith(routes.USAGE)
    return rx.el.header(
        rx.hstack(
            rx.link(
                brand(name_on_phones=False),
                href=routes.HISTORY,
                underline="none",
                color="inherit",
                aria_label=PRODUCT_NAME,
            ),
            rx.el.nav(
                rx.hstack(
                    nav_link("New optimization", routes.NEW, active=on_new, short="New"),
                    nav_link("History", routes.HISTORY, active=on_history),
                    nav_link("Usage", routes.USAGE, active=on_usage),
                    spacing="1",
                ),
                aria_label="Main",
            ),
            rx.spacer(),
            user_menu(),
            align="center",
            spacing=rx.breakpoints(initial="3", sm="6"),
            width="100%",
            max_width=CONTENT_MAX_WIDTH,
            margin_x="auto",
            padding_x=[space(4), space(6)],
            height="56px",
        ),
        style={
            "position": "sticky",
            "top": "0",
            "z_index": "10",
            "background": PANEL_BACKGROUND,
            "border_bottom": BORDER,
        },
    )


def nav_link(label: str, href: str, *, active: rx.Var[bool], short: str | None = None
             ) -> rx.Component:
    """A top-navigation link; ``short`` is shown instead of ``label`` on phones (the link's
    accessible name stays ``label``)."""
    content: rx.Component | str = label
    if short is not None:
        content = rx.fragment(
            rx.text.span(short, display=rx.breakpoints(initial="inline", sm="none")),
            rx.text.span(label, display=rx.breakpoints(initial="none", sm="inline")),
        )
    return rx.link(
        content,
        href=href,
        size="2",
        weight="medium",
        underline="none",
        aria_label=label,
        padding_x=rx.breakpoints(initial=space(2), sm=space(3)),
        padding_y=space(2),
        border_radius="var(--radius-2)",
        white_space="nowrap",
        color=rx.cond(active, "var(--accent-11)", "var(--gray-11)"),
        background=rx.cond(active, "var(--accent-a3)", "transparent"),
        custom_attrs={"aria-current": rx.cond(active, "page", "false")},
        _hover={
            "background": rx.cond(active, "var(--accent-a4)", "var(--gray-a3)"),
            "color": rx.cond(active, "var(--accent-12)", "var(--gray-12)"),
        },
    )


def user_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=AuthState.user_initial, size="1", radius="full"),
                rx.text(
                    AuthState.user_email,
                    size="2",
                    weight="medium",
                    display=rx.breakpoints(initial="none", sm="inline"),
                ),
                rx.icon("chevron-down", size=14),
                variant="ghost",
                color_scheme="gray",
                size="2",
                aria_label="Account menu for " + AuthState.user_email,
            ),
        ),
        rx.menu.content(
            rx.box(
                rx.text("Signed in as", size="1", color_scheme="gray"),
                rx.text(AuthState.user_email, size="2", weight="medium"),
                padding_x=space(3),
                padding_y=space(2),
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.icon("log-out", size=14),
                "Sign out",
                on_select=AuthState.sign_out,
            ),
            align="end",
        ),
    )
