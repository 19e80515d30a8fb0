"""Application errors. Every error reaching a client is turned into one shape:
``{"error": {"code", "message", "details", "requestId"}}`` with the status carried here."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else []
        if code is not None:
            self.code = code


class BadRequestError(AppError):
    status, code = 400, "bad_request"


class UnauthorizedError(AppError):
    status, code = 401, "unauthorized"


class ForbiddenError(AppError):
    status, code = 403, "forbidden"


class NotFoundError(AppError):
    status, code = 404, "not_found"


class MethodNotAllowedError(AppError):
    status, code = 405, "method_not_allowed"


class ConflictError(AppError):
    status, code = 409, "conflict"


class PayloadTooLargeError(AppError):
    status, code = 413, "payload_too_large"


class ValidationError(AppError):
    status, code = 422, "validation_error"


class TooManyRequestsError(AppError):
    status, code = 429, "too_many_requests"


class QuotaExceededError(TooManyRequestsError):
    """A submit refused by a quota; ``details`` is ``[{quota, limit, used, resetsAt}]``."""

    code = "quota_exceeded"


class InternalError(AppError):
    status, code = 500, "internal_error"
