"""POST /auth/register, POST /auth/token.

Both are ``async``: the blocking parts (a short database read or insert, and the Argon2 hash)
run in worker threads inside the auth service, so the event loop keeps serving requests and no
database transaction is open while a password is hashed."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from optimizer_app.core.errors import BadRequestError, ValidationError
from optimizer_app.services import auth
from optimizer_app.services.schemas import TokenPublic, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


class Credentials(BaseModel):
    email: str
    password: str


@router.post("/register", status_code=201, response_model=UserPublic)
async def register(body: Credentials) -> UserPublic:
    """Passwords: 10 to 256 characters, not a commonly used one, not containing the email."""
    return await auth.register(email=body.email, password=body.password)


async def _read_credentials(request: Request) -> Credentials:
    content_type = request.headers.get("content-type", "")
    raw: Any
    if content_type.startswith("application/x-www-form-urlencoded"):
        # (multipart bodies never get here: the body-limit middleware answers 415)
        form = await request.form(max_files=0, max_fields=8)
        raw = {"email": form.get("email") or form.get("username"), "password": form.get("password")}
    else:
        try:
            raw = json.loads(await request.body() or b"null")
        except (ValueError, RecursionError) as exc:  # bad JSON, bad UTF-8, huge ints, deep nesting
            raise BadRequestError(
                "the request body is not valid JSON", code="malformed_json"
            ) from exc
    try:
        return Credentials.model_validate(raw)
    except PydanticValidationError as exc:
        details = [
            {"field": ".".join(map(str, e["loc"])) or "body", "problem": e["msg"]}
            for e in exc.errors()
        ]
        raise ValidationError("email and password are required", details=details) from exc


@router.post(
    "/token",
    response_model=TokenPublic,
    responses={429: {"description": "Too many failed sign-ins; retry after `Retry-After` s"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": Credentials.model_json_schema()},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "username": {"type": "string"},
                            "password": {"type": "string"},
                        },
                        "required": ["username", "password"],
                    }
                },
            },
        }
    },
)
async def token(request: Request) -> TokenPublic:
    """JSON `{email, password}`, or OAuth2 form fields `username` + `password`. Repeated failures
    for one account or from one address are refused with 429 and `Retry-After`."""
    body = await _read_credentials(request)
    client = request.client.host if request.client else None
    return await auth.login(email=body.email, password=body.password, client=client)
