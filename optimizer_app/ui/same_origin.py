"""A Reflex plugin that makes the production frontend talk to the server that served the page.

Reflex bakes ``api_url`` (``http://localhost:<backend port>``) into the frontend build, and
its ``getBackendURL`` swaps only the host name of such a URL for the page's own: the port
stays the one the build was made for. In production one server serves both the pages and
the backend, so the page's own origin is always right. This plugin rewrites that function
to take the page's host *and* port, which makes one build valid on any port (two instances
from one checkout, a test run next to a running app, a proxy in front).

In development the pages come from the Vite server on another port than the backend, so
the function is left as Reflex ships it (and restored if a production build changed it)."""

from __future__ import annotations

from typing import Any

from reflex_base import constants
from reflex_base.environment import environment
from reflex_base.plugins.base import Plugin

from optimizer_app.core.logging import logger

STATE_JS = "utils/state.js"
MARKER = "// grid-optimizer: same-origin backend"
SINGLE_PORT_MODES = (constants.Env.PROD, constants.Env.PREVIEW)

# (what Reflex 0.10 ships, what production uses)
_REPLACEMENTS = (
    (
        "    const frontend_hostname = window.location.hostname;\n"
        "    endpoint.hostname = frontend_hostname;\n",
        f"    {MARKER}: the page's host and port.\n    endpoint.host = window.location.host;\n",
    ),
    (
        '      endpoint.port = ""; // Assume websocket is on https port via load balancer.\n',
        "      endpoint.port = window.location.port;\n",
    ),
)


def use_page_origin(source: str) -> str:
    """``state.js`` whose ``getBackendURL`` keeps the page's host and port; unchanged (with a
    warning) if this Reflex version's code is not the expected one."""
    if MARKER in source:
        return source
    if not all(shipped in source for shipped, _ in _REPLACEMENTS):
        logger.bind(file=STATE_JS).warning(
            "getBackendURL not recognised: the frontend keeps the port it was built for"
        )
        return source
    for shipped, ours in _REPLACEMENTS:
        source = source.replace(shipped, ours, 1)
    return source


def use_built_port(source: str) -> str:
    """``state.js`` as Reflex ships it (undoes :func:`use_page_origin`)."""
    for shipped, ours in _REPLACEMENTS:
        source = source.replace(ours, shipped, 1)
    return source


class SameOriginPlugin(Plugin):
    """Rewrites ``getBackendURL`` in production builds (see the module docstring)."""

    def pre_compile(self, **context: Any) -> None:
        single_port = environment.REFLEX_ENV_MODE.get() in SINGLE_PORT_MODES
        context["add_modify_task"](STATE_JS, use_page_origin if single_port else use_built_port)
