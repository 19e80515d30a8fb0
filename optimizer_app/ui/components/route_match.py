"""``RouteMatch`` (``assets/route_match.jsx``): content shown only while the state's data
belongs to the URL in the address bar, decided in the browser at once on navigation."""

from __future__ import annotations

import reflex as rx


class RouteMatch(rx.Component):
    library = "$/public/route_match.jsx"
    tag = "RouteMatch"

    param: rx.Var[str]
    value: rx.Var[str]
    negate: rx.Var[bool]


def for_route(param: str, value: rx.Var | str, content: rx.Component,
              waiting: rx.Component) -> rx.Component:
    """``content`` while ``value`` equals the route's ``param``; ``waiting`` until then."""
    return rx.fragment(
        RouteMatch.create(content, param=param, value=value),
        RouteMatch.create(waiting, param=param, value=value, negate=True),
    )
