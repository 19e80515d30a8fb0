"""The REST API: a FastAPI app mounted on the Reflex backend (api_transformer)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request

from optimizer_app import __version__
from optimizer_app.api.errors import install_error_handlers
from optimizer_app.api.middleware import RequestContextMiddleware
from optimizer_app.api.routes import auth, datasets, health, optimizations, strategies
from optimizer_app.core.errors import NotFoundError
from optimizer_app.core.logging import configure_logging

API_PREFIX = "/api/v1"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _v1_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(auth.router)
    router.include_router(strategies.router)
    router.include_router(datasets.router)
    router.include_router(optimizations.router)
    return router


async def _unknown_api_route(request: Request) -> None:
    raise NotFoundError(f"no API route {request.method} {request.url.path}")


def create_api() -> FastAPI:
    configure_logging()
    app = FastAPI(
        title="Grid Optimizer API",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(_v1_router())
    app.include_router(health.router)
    app.add_api_route(
        "/api/{rest:path}", _unknown_api_route, methods=ALL_METHODS, include_in_schema=False
    )
    return app
