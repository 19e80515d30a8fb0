"""The two requests made all the time — every open page polls its job's status once a second,
monitors poll the health check — answered without FastAPI's router and dependency solving.

Measured on the default deployment: a status poll cost about 4.5 ms of the web server's CPU, a
health check 2.5 ms, most of it in route matching (every API route is tried in turn) and
dependency resolution rather than in the two reads it makes. Fifty open pages were a quarter
of a core. Here a path match and the same calls the routes make (in the same worker-thread
lane) answer them; everything around them is unchanged: this sits inside the request-id,
access-log, metrics, security-header and body-limit middleware, and the FastAPI routes stay
registered (for the API documentation, and for any method or path this does not match).
Responses, errors included, are the routes' own (a test compares them).
"""

from __future__ import annotations

import json
import re

from fastapi.security.utils import get_authorization_scheme_param
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from optimizer_app import __version__
from optimizer_app.api import lanes
from optimizer_app.api.deps import API_PREFIX, uuid_or_404, verified_bearer
from optimizer_app.api.errors import app_error_response
from optimizer_app.api.middleware import HEALTH_TEMPLATE, ROUTE_TEMPLATE_KEY, STATUS_TEMPLATE
from optimizer_app.api.routes.health import ping_database
from optimizer_app.api.routes.optimizations import read_status
from optimizer_app.core.errors import AppError

_STATUS_PATH = re.compile(rf"{re.escape(API_PREFIX)}/optimizations/([^/]+)/status")
_HEALTHY = json.dumps({"status": "ok", "version": __version__}, separators=(",", ":")).encode()


class PollingRoutes:
    """Pure ASGI: ``GET /api/v1/optimizations/{id}/status`` and ``GET /healthz``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = scope["path"]
            if path == HEALTH_TEMPLATE:
                scope[ROUTE_TEMPLATE_KEY] = HEALTH_TEMPLATE
                await lanes.run_in(lanes.POLL, ping_database)
                await _json(_HEALTHY)(scope, receive, send)
                return
            match = _STATUS_PATH.fullmatch(path)
            if match is not None:
                scope[ROUTE_TEMPLATE_KEY] = STATUS_TEMPLATE
                try:
                    body = await _status(scope, match.group(1))
                except AppError as exc:
                    await app_error_response(exc)(scope, receive, send)
                    return
                await _json(body)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _status(scope: Scope, raw_id: str) -> bytes:
    """As the route: the token first (401), then the id (404), then one worker-thread hop."""
    token = bearer_of(scope)
    job_id = uuid_or_404(raw_id, "optimization")
    status = await lanes.run_in(lanes.POLL, read_status, token, job_id)
    return status.model_dump_json(by_alias=True).encode()


def bearer_of(scope: Scope) -> str:
    """The verified bearer token of a request (401 without one, or for a bad one)."""
    header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
    scheme, token = get_authorization_scheme_param(
        header.decode("latin-1") if header is not None else None)
    return verified_bearer(scheme, token)


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")
