"""Turn every failure into the one error shape: {"error": {code, message, details, requestId}}."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from optimizer_app.core.errors import AppError
from optimizer_app.core.logging import logger, request_id_var
from optimizer_app.persistence.storage_errors import permanent_storage_error

FASTAPI_BODY_ERROR = "There was an error parsing the body"
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    507: "storage_full",
}


class ErrorJSONResponse(JSONResponse):
    """ASCII-escaped JSON: an error that quotes a client's input (e.g. a lone surrogate that is
    not valid Unicode) always renders."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": details if details is not None else [],
            "requestId": request_id_var.get(),
        }
    }
    return ErrorJSONResponse(body, status_code=status, headers=headers)


MAX_FIELD_CHARS = 200
MAX_DETAILS = 50  # a list of 10,000 wrong values is one problem, told 50 times at most


def _validation_details(exc: RequestValidationError) -> tuple[int, str, list[dict]]:
    """Where and what, never the rejected value itself: it may be a password, or megabytes."""
    details = []
    for err in exc.errors()[:MAX_DETAILS]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        field = ".".join(loc) or "body"
        if len(field) > MAX_FIELD_CHARS:  # a client's own key names are part of the path
            field = field[:MAX_FIELD_CHARS] + "…"
        details.append({"field": field, "problem": err.get("msg", "invalid"),
                        "type": err.get("type")})
    if any(d["type"] == "json_invalid" for d in details):
        return 400, "malformed_json", []
    return 422, "validation_error", details


def app_error_response(exc: AppError) -> JSONResponse:
    if exc.status >= 500:
        logger.error("request failed", code=exc.code, error=exc.message)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return error_response(exc.status, exc.code, exc.message, exc.details, headers or None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return app_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, details = _validation_details(exc)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        message = "the request body is not valid JSON" if status == 400 else summary
        return error_response(status, code, message or "invalid request", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 400 and message == FASTAPI_BODY_ERROR:
            # json.loads raised something else than JSONDecodeError: an integer above Python's
            # digit limit (ValueError), nesting too deep (RecursionError), bytes not UTF-8
            code, message = "malformed_json", "the request body is not valid JSON"
        return error_response(exc.status_code, code, message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unhandled(_request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(exc)


def unexpected_error_response(exc: BaseException) -> JSONResponse:
    """The answer to an exception nothing else handled: 507 when the data disk is full or
    read-only (the server keeps serving; the message says what to do), else a logged 500."""
    storage = permanent_storage_error(exc)
    if storage:
        logger.bind(error=storage).error("storage error")
        return error_response(507, "storage_full", storage)
    logger.opt(exception=exc).error("unhandled error")
    return error_response(500, "internal_error", "an unexpected error occurred; it was logged")
