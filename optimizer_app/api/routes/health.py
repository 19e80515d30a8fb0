"""GET /healthz and GET /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from optimizer_app import __version__
from optimizer_app.api import lanes
from optimizer_app.core.metrics import render_latest
from optimizer_app.persistence.db import read_first

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    await lanes.run_in(lanes.POLL, ping_database)
    return {"status": "ok", "version": __version__}


_PING = text("SELECT 1")


def ping_database() -> None:
    read_first(_PING, {})


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(render_latest(), media_type=CONTENT_TYPE_LATEST)
