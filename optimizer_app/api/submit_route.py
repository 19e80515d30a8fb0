"""``POST /api/v1/optimizations`` answered without FastAPI's router and dependency solving,
when the request is one the route would take to the service unchanged.

Sixty submits sent at once are served one after another (one writer, one GIL), so their cost
is the burst's length. In-process, route matching and dependency solving were ~40% of a
submit's CPU outside the service (~2.4 of ~6.3 ms). Here a well-formed submit — a JSON body
that parses into a valid ``JobCreate`` and holds only storable text, with a valid bearer token —
goes straight to the same lane and service call as the route (``routes.optimizations``), and
its answer or its error (``AppError`` → the same error response as the route's handlers) is
the route's own. Anything else — no or a bad token, a body that does not parse or validate,
another media type — is handed to FastAPI with the body as read, so every refusal keeps
coming from the one place that makes it. A test compares the two paths' answers.
"""

from __future__ import annotations

import json

from pydantic import ValidationError as PydanticValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer_app.api import lanes
from optimizer_app.api.bodies import find_invalid_text, is_json
from optimizer_app.api.deps import API_PREFIX
from optimizer_app.api.errors import app_error_response
from optimizer_app.api.middleware import ROUTE_TEMPLATE_KEY
from optimizer_app.api.polling import bearer_of
from optimizer_app.api.routes.optimizations import submit_in_lane
from optimizer_app.core.errors import AppError
from optimizer_app.services.schemas import JobCreate

SUBMIT_PATH = f"{API_PREFIX}/optimizations"


class SubmitRoute:
    """Pure ASGI: the happy path of ``POST /api/v1/optimizations`` (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"
                or scope["path"] != SUBMIT_PATH):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive)
        replay = _replaying(body, more, receive)
        if more is None:  # the client went away, or the body limit refused it
            await self.app(scope, replay, send)
            return
        found = _well_formed(scope, body)
        if found is None:
            await self.app(scope, replay, send)
            return
        token, job = found
        scope[ROUTE_TEMPLATE_KEY] = SUBMIT_PATH
        try:
            response = await lanes.run_in(lanes.SUBMIT, submit_in_lane, token, job)
        except AppError as exc:
            await app_error_response(exc)(scope, replay, send)
            return
        await response(scope, replay, send)


async def _read(receive: Receive) -> tuple[bytes, bool | None]:
    """The whole body (the body limit middleware has counted it), and False; or what came
    and None when something other than the body arrived (a disconnect)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replaying(body: bytes, more: bool | None, receive: Receive) -> Receive:
    """A ``receive`` that gives the body read here once, then defers to the client's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if more is None:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _well_formed(scope: Scope, body: bytes) -> tuple[str, JobCreate] | None:
    """The verified token and the job when the route would pass them to the service as they
    are; None otherwise (FastAPI then answers, refusals included)."""
    headers = dict(scope["headers"])
    content_type = headers.get(b"content-type")
    if content_type is None or not is_json(content_type.decode("latin-1")):
        return None
    try:
        token = bearer_of(scope)
        data = json.loads(body)
        if not isinstance(data, dict) or find_invalid_text(data) is not None:
            return None
        return token, JobCreate.model_validate(data)
    except (AppError, ValueError, RecursionError, PydanticValidationError):
        return None
