"""POST /auth/register, POST /auth/token."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from optimizer_app.api.deps import SessionDep
from optimizer_app.core.errors import BadRequestError, ValidationError
from optimizer_app.services import auth
from optimizer_app.services.schemas import TokenPublic, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


class Credentials(BaseModel):
    email: str
    password: str


@router.post("/register", status_code=201, response_model=UserPublic)
def register(body: Credentials, session: SessionDep) -> UserPublic:
    return auth.register_user(session=session, email=body.email, password=body.password)


async def _read_credentials(request: Request) -> Credentials:
    content_type = request.headers.get("content-type", "")
    raw: Any
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        raw = {"email": form.get("email") or form.get("username"), "password": form.get("password")}
    else:
        try:
            raw = json.loads(await request.body() or b"null")
        except json.JSONDecodeError as exc:
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
async def token(request: Request, session: SessionDep) -> TokenPublic:
    """JSON `{email, password}`, or OAuth2 form fields `username` + `password`."""
    body = await _read_credentials(request)
    return auth.login(session=session, email=body.email, password=body.password)
