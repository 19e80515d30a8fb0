"""Cross-origin requests: none by default, the configured origins otherwise.

Reflex puts Starlette's CORS middleware outside every app it composes (the API and the
top-level app), with its ``cors_allowed_origins``. Even with no origin allowed, that layer
answers every preflight itself — ``400 Disallowed CORS origin`` in plain text, outside the
request id and the security headers — and marks every answer ``allow-credentials``.
:func:`add_cors` takes its place (``rx.App._add_cors``): no layer at all when no origin is
allowed (a preflight then reaches the router like any other request), and otherwise one
layer *inside* the API's request-id and security-header middleware whose refusals are in the
one error shape."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from optimizer_app.api.errors import error_response
from optimizer_app.api.middleware import RequestContextMiddleware


class ErrorShapedCORSMiddleware(CORSMiddleware):
    """Starlette's CORS for the allowed origins; a refused preflight is a 403 in the error
    shape (which origin, method or header was refused)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        refused = bytes(answer.body).decode("utf-8", "replace")  # "Disallowed CORS origin, …"
        return error_response(403, "forbidden", f"cross-origin request refused: {refused}",
                              details=[{"field": "Origin",
                                        "problem": request_headers.get("origin", "")}])


def add_cors(api: object, origins: list[str] | None = None) -> None:
    """The CORS layer of an app Reflex composes. Only the API app (the one with the request-id
    middleware, which wraps every HTTP route of the backend) gets one, and only when origins
    are allowed (``rxconfig``'s ``cors_allowed_origins`` unless ``origins`` is given); it goes
    just inside the request-id middleware, so its answers carry the request id and the
    security headers."""
    if not isinstance(api, FastAPI):
        return
    if origins is None:
        from reflex.config import get_config

        origins = list(get_config().cors_allowed_origins)
    inside_request_context = [i + 1 for i, m in enumerate(api.user_middleware)
                              if m.cls is RequestContextMiddleware]
    if not origins or not inside_request_context:
        return
    api.user_middleware.insert(
        inside_request_context[0],
        Middleware(ErrorShapedCORSMiddleware, allow_origins=origins, allow_credentials=True,
                   allow_methods=["*"], allow_headers=["*"]),
    )


def install() -> None:
    """Make Reflex compose its apps with :func:`add_cors` instead of its own CORS layer
    (call before the ``rx.App`` is built)."""
    import reflex as rx

    rx.App._add_cors = staticmethod(add_cors)  # type: ignore[assignment,method-assign]
