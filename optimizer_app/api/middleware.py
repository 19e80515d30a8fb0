"""Request id, access log and latency metric for every request."""

from __future__ import annotations

import re
import time
import uuid

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer_app.api.errors import error_response
from optimizer_app.core.logging import logger, request_id_var, user_id_var
from optimizer_app.core.metrics import HTTP_LATENCY

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TEMPLATES: dict[int, dict[int, str]] = {}


def _route_template(scope: Scope) -> str:
    """The full path template of the matched route (``/api/v1/optimizations/{id}/status``).
    A route inside an included router only knows its path relative to that router."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    app = scope.get("app")
    templates = _TEMPLATES.get(id(app))
    if templates is None and app is not None:
        templates = {
            id(context.original_route): context.path
            for context in iter_route_contexts(getattr(app, "routes", []))
            if context.path is not None
        }
        _TEMPLATES[id(app)] = templates
    return (templates or {}).get(id(route)) or getattr(route, "path", None) or "unmatched"


class RequestContextMiddleware:
    """Pure ASGI (streams stay streams): accepts or creates X-Request-ID and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        start = time.perf_counter()
        status_holder = {"status": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["started"] = True
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Answer in the one error shape (with the request id) instead of a bare 500.
            logger.opt(exception=exc).error("unhandled error")
            if status_holder["started"]:
                raise
            response = error_response(
                500, "internal_error", "an unexpected error occurred; it was logged"
            )
            await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            if path.startswith("/api") or path in ("/healthz", "/metrics"):
                template = _route_template(scope)
                status = status_holder["status"]
                HTTP_LATENCY.labels(scope.get("method", ""), template, str(status)).observe(elapsed)
                logger.info(
                    "http request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            request_id_var.reset(token)
            user_id_var.reset(user_token)
