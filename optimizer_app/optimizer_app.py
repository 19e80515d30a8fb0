"""Composition root: the Reflex app, its pages and the REST API — wiring only.

The job orchestrator runs as its own process (``python -m optimizer_app.orchestration``),
started next to the web server by ``scripts/run.sh``. The theme is configured with the Radix
Themes plugin in ``rxconfig.py``."""

from __future__ import annotations

import reflex as rx

from optimizer_app.api import cors
from optimizer_app.api.main import create_api
from optimizer_app.ui import pages  # noqa: F401  (registers every page)
from optimizer_app.ui.layout import register_pages
from optimizer_app.ui.states.auth import upload_allowed
from optimizer_app.ui.theme import GLOBAL_STYLE

# Reflex mounts its own backend (event websocket, /_upload, and in prod the pages) inside this
# FastAPI app, so the API's middleware (body limits, security headers, request ids) wraps every
# HTTP request of the backend; /_upload is accepted only from a signed-in browser tab. Its CORS
# layer is ours (none unless origins are configured; refusals in the error shape).
cors.install()


async def _upload_allowed(client_token: str) -> bool:
    return await upload_allowed(app.state_manager, client_token)


app = rx.App(api_transformer=create_api(upload_guard=_upload_allowed), style=GLOBAL_STYLE)
register_pages(app)
