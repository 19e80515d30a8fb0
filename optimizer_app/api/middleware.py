"""Pure ASGI middleware: request id, access log and latency metric for every request; security
headers on every response; request body limits (see ``BodyLimitMiddleware``)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer_app.api.errors import error_response, unexpected_error_response
from optimizer_app.core.config import settings
from optimizer_app.core.logging import logger, request_id_var, user_id_var
from optimizer_app.core.metrics import HTTP_LATENCY, REQUESTS_REFUSED

DATASET_UPLOAD_PATH = "/api/v1/datasets"
TOKEN_PATH = "/api/v1/auth/token"
REFLEX_UPLOAD_PATH = "/_upload"
STATUS_TEMPLATE = "/api/v1/optimizations/{id}/status"
HEALTH_TEMPLATE = "/healthz"
# Set by a request answered before routing (``polling``): the template FastAPI would have
# matched, for the access log and the latency metric.
ROUTE_TEMPLATE_KEY = "optimizer.route_template"

POLLS = frozenset({STATUS_TEMPLATE, HEALTH_TEMPLATE})
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TEMPLATES: dict[int, dict[int, str]] = {}


def _route_template(scope: Scope) -> str:
    """The full path template of the matched route (``/api/v1/optimizations/{id}/status``).
    A route inside an included router only knows its path relative to that router; a request
    answered before routing names its template itself."""
    if (template := scope.get(ROUTE_TEMPLATE_KEY)) is not None:
        return str(template)
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
            if status_holder["started"]:
                logger.opt(exception=exc).error("unhandled error")
                raise
            await unexpected_error_response(exc)(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            path = scope.get("path", "")
            if path.startswith("/api") or path in ("/healthz", "/metrics"):
                template = _route_template(scope)
                status = status_holder["status"]
                HTTP_LATENCY.labels(scope.get("method", ""), template, str(status)).observe(elapsed)
                # Answered polls are counted above but logged only at DEBUG: fifty open pages
                # make fifty a second, and writing each line was a sixth of a poll's cost.
                log = logger.debug if template in POLLS and status < 400 else logger.info
                log(
                    "http request",
                    method=scope.get("method"),
                    path=path,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                )
            request_id_var.reset(token)
            user_id_var.reset(user_token)


# --- security headers ---------------------------------------------------------------------------

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds anti-framing, no-sniff and referrer headers to every HTTP response (pages, API,
    static files, errors) unless the response set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- request body limits ------------------------------------------------------------------------

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around an upload's file
UploadGuard = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True)
class BodyRule:
    """How large a route's body may be, and whether multipart / form bodies are accepted."""

    limit: int
    multipart: bool = False
    form: bool = False


def body_rule(method: str, path: str) -> BodyRule:
    """The cap of one request. Multipart bodies only on the two upload routes; form-encoded
    ones only on the OAuth2 token route; everything else is JSON-sized."""
    path = path.rstrip("/") or "/"
    if method == "POST" and path in (DATASET_UPLOAD_PATH, REFLEX_UPLOAD_PATH):
        return BodyRule(settings.upload_max_bytes + MULTIPART_OVERHEAD, multipart=True)
    if method == "POST" and path == TOKEN_PATH:
        return BodyRule(settings.max_json_bytes, form=True)
    return BodyRule(settings.max_json_bytes)


def _media_type(headers: dict[bytes, bytes]) -> str:
    raw = headers.get(b"content-type", b"").decode("latin-1")
    return raw.split(";", 1)[0].strip().lower()


class BodyLimitMiddleware:
    """Pure ASGI: refuses a request body larger than its route's cap without reading it.

    * ``Content-Length`` above the cap: 413 at once, the app is never called.
    * No ``Content-Length`` (chunked): bytes are counted as they stream to the app; when the
      cap is crossed the 413 is sent, the app is told the client disconnected, and nothing more
      is read from the client (nothing is buffered here).
    * ``multipart/form-data`` outside the upload routes and form-encoded bodies outside
      ``POST /api/v1/auth/token``: 415, before anything is read.
    * ``POST /_upload`` (Reflex's upload endpoint) needs the ``Reflex-Client-Token`` of a
      browser tab that is signed in (``upload_guard``); without one it is 401, before the body
      is read. Without a guard, ``/_upload`` is always refused.

    Every refusal is in the one error shape and counted in ``http_requests_refused_total``.
    """

    def __init__(self, app: ASGIApp, upload_guard: UploadGuard | None = None) -> None:
        self.app = app
        self.upload_guard = upload_guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope.get("method", "GET"), scope.get("path", "")
        rule = body_rule(method, path)
        headers = dict(scope.get("headers") or [])
        media = _media_type(headers)
        refusal = None
        if media.startswith("multipart/") and not rule.multipart:
            refusal = (415, "unsupported_media_type",
                       f"multipart bodies are accepted only by POST {DATASET_UPLOAD_PATH} "
                       "(dataset upload); send JSON")
        elif media == "application/x-www-form-urlencoded" and not (rule.form or rule.multipart):
            refusal = (415, "unsupported_media_type",
                       "form-encoded bodies are accepted only by POST "
                       f"{TOKEN_PATH}; send JSON")
        else:
            declared = _content_length(headers)
            if declared is not None and declared > rule.limit:
                refusal = _too_large(rule.limit)
            elif path.rstrip("/") == REFLEX_UPLOAD_PATH and method == "POST":
                refusal = await self._check_upload_session(headers)
        if refusal is not None:
            await _refuse(scope, receive, send, *refusal)
            return
        await _LimitedRequest(self.app, rule.limit)(scope, receive, send)

    async def _check_upload_session(
        self, headers: dict[bytes, bytes]
    ) -> tuple[int, str, str] | None:
        token = headers.get(b"reflex-client-token", b"").decode("latin-1")
        if self.upload_guard is not None and token and await self.upload_guard(token):
            return None
        return (401, "unauthorized", "sign in to upload files")


def _content_length(headers: dict[bytes, bytes]) -> int | None:
    raw = headers.get(b"content-length")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw)


def _too_large(limit: int) -> tuple[int, str, str]:
    return (413, "payload_too_large",
            f"the request body is larger than the limit of {limit:,} bytes for this route")


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                  message: str) -> None:
    """Answer in the error shape without reading (the rest of) the body. The connection is
    then closed: what is left of the body would otherwise be read as the next request on it
    (a client that reused it saw the connection dropped)."""
    REQUESTS_REFUSED.labels(code).inc()
    details = [{"field": "body", "problem": message}]
    await error_response(status, code, message, details,
                         headers={"Connection": "close"})(scope, receive, send)


class _LimitedRequest:
    """One request whose body is counted as the app reads it (see BodyLimitMiddleware)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.refused = False
        self.response_started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.refused = True
                    if not self.response_started:
                        self.response_started = True
                        await _refuse(scope, receive, send, *_too_large(self.limit))
                    # the app sees a client that went away, and stops reading
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if self.refused:
                return  # the 413 was sent; whatever the app answers after it is dropped
            if message["type"] == "http.response.start":
                self.response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.refused:
                raise
            # the app failed on the "disconnect" it was handed (ClientDisconnect and the like):
            # expected, and already answered with 413
