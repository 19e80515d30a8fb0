"""The REST API: a FastAPI app mounted on the Reflex backend (api_transformer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel

from optimizer_app import __version__
from optimizer_app.api.bodies import refuse_invalid_text
from optimizer_app.api.deps import API_PREFIX
from optimizer_app.api.errors import install_error_handlers
from optimizer_app.api.middleware import (
    BodyLimitMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    UploadGuard,
)
from optimizer_app.api.polling import PollingRoutes
from optimizer_app.api.routes import (
    auth,
    datasets,
    health,
    optimizations,
    strategies,
    usage,
    validation,
)
from optimizer_app.api.submit_route import SubmitRoute
from optimizer_app.core.errors import MethodNotAllowedError, NotFoundError
from optimizer_app.core.logging import configure_logging

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[Any] | dict[str, Any]
    requestId: str | None  # noqa: N815  (the wire name)


class ErrorResponse(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail


_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Malformed request (e.g. invalid JSON)",
        401: "Missing, invalid or expired bearer token",
        403: "Forbidden (admin routes, for users who are not administrators)",
        404: "Not found (or owned by another user)",
        413: "Request body above the route's limit (OPTIMIZER_MAX_JSON_BYTES for JSON)",
        415: "Media type not accepted by this route (multipart only for dataset upload)",
        422: "Invalid input; `details` names each field and the problem",
        429: "Too many requests, or a quota exceeded (`quota_exceeded`, details "
             "`[{quota, limit, used, resetsAt}]`)",
        500: "Unexpected error (logged with the request id)",
    }.items()
}


def _v1_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=_ERROR_RESPONSES)
    router.include_router(auth.router)
    router.include_router(strategies.router)
    router.include_router(datasets.router)
    router.include_router(optimizations.router)
    router.include_router(usage.router)
    router.include_router(validation.router)
    return router


async def _unknown_api_route(request: Request) -> None:
    """Catch-all under /api: 405 when the path exists with other methods, else 404."""
    path = request.url.path
    allowed = sorted(
        {
            method
            for context in iter_route_contexts(request.app.router.routes)
            if context.endpoint is not _unknown_api_route
            and context.path_regex.match(path)
            for method in (context.methods or ())
        }
    )
    if allowed:
        raise MethodNotAllowedError(
            f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}",
            details=[{"field": "method", "problem": f"allowed: {', '.join(allowed)}"}],
        )
    raise NotFoundError(f"no API route {request.method} {request.url.path}")


def create_api(upload_guard: UploadGuard | None = None, *, shortcuts: bool = True
               ) -> FastAPI:
    """The REST API. Mounted by Reflex as its ``api_transformer``, it also becomes the outer
    app of the whole backend (Reflex mounts its own routes, ``/_upload`` and the pages inside
    it), so its middleware sees every HTTP request: request id and log, security headers, body
    limits. ``upload_guard(client_token)`` tells whether a Reflex tab is signed in (``/_upload``
    is refused without one)."""
    configure_logging()
    app = FastAPI(
        title="Grid Optimizer API",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        dependencies=[Depends(refuse_invalid_text)],
    )
    install_error_handlers(app)
    # add_middleware puts each one outside the previous: headers, then request id, then limits,
    # then the requests answered before routing — status and health polls, well-formed
    # submits (``shortcuts=False``: by the FastAPI routes alone, which tests compare them with)
    if shortcuts:
        app.add_middleware(SubmitRoute)
        app.add_middleware(PollingRoutes)
    app.add_middleware(BodyLimitMiddleware, upload_guard=upload_guard)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(_v1_router())
    app.include_router(health.router)
    app.add_api_route(
        "/api/{rest:path}", _unknown_api_route, methods=ALL_METHODS, include_in_schema=False
    )
    return app
