"""Sign-up, sign-in and token checks — used by the REST API and the UI alike.

Sign-up and sign-in are coroutines that never block the event loop and never hold a database
transaction while hashing: the user is read in a short read-only session (in a worker thread),
the Argon2 work runs in the bounded hashing pool (``core.security``) outside any transaction,
and sign-up opens a write session only to insert the row."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from optimizer_app.core.errors import (
    ConflictError,
    TooManyRequestsError,
    UnauthorizedError,
    ValidationError,
)
from optimizer_app.core.logging import logger
from optimizer_app.core.metrics import LOGIN_FAILURES, LOGIN_THROTTLED
from optimizer_app.core.security import (
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password_async,
    verify_password_async,
)
from optimizer_app.persistence import users
from optimizer_app.persistence.db import session_scope
from optimizer_app.persistence.models import User
from optimizer_app.services.login_throttle import Throttled, throttle
from optimizer_app.services.passwords import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    NOT_TEXT,
    check_new_credentials,
    is_valid_text,
    normalize_email,
)
from optimizer_app.services.schemas import TokenPublic, UserPublic

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "LoginThrottled", "login", "normalize_email",
           "register", "user_from_token"]

WRONG_CREDENTIALS = "wrong email or password"
DUPLICATE = "an account with this email already exists; sign in instead"
_DUMMY_HASH: str | None = None


class LoginThrottled(TooManyRequestsError):
    """429 with a ``Retry-After`` header (seconds)."""

    def __init__(self, throttled: Throttled) -> None:
        what = "this account" if throttled.scope == "account" else "this address"
        super().__init__(
            f"too many failed sign-ins for {what}; try again in {throttled.retry_after} s",
            details=[{"field": "email" if throttled.scope == "account" else "client",
                      "problem": f"too many failed sign-ins; try again in "
                                 f"{throttled.retry_after} s",
                      "retryAfter": throttled.retry_after}],
        )
        self.retry_after = throttled.retry_after


def _user_by_email(email: str) -> tuple[uuid.UUID, str] | None:
    with session_scope(readonly=True) as session:
        user = users.get_user_by_email(session=session, email=email)
        return (user.id, user.password_hash) if user else None


def _insert_user(email: str, password_hash: str) -> UserPublic:
    try:
        with session_scope() as session:
            user = users.create_user(session=session, email=email, password_hash=password_hash)
            public = UserPublic.model_validate(user)
    except IntegrityError as exc:
        raise ConflictError(DUPLICATE) from exc
    return public


async def register(*, email: str, password: str) -> UserPublic:
    """Create an account (422 for a weak password or a bad email, 409 when it exists)."""
    email = normalize_email(email)
    check_new_credentials(email, password)
    if await asyncio.to_thread(_user_by_email, email) is not None:
        raise ConflictError(DUPLICATE)
    password_hash = await hash_password_async(password)
    user = await asyncio.to_thread(_insert_user, email, password_hash)
    logger.bind(user_id=str(user.id)).info("user registered")
    return user


async def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await hash_password_async("not-a-real-password")
    return _DUMMY_HASH


async def login(*, email: str, password: str, client: str | None = None) -> TokenPublic:
    """An access token for the right email and password; 401 otherwise, the same for an unknown
    account; 429 (``LoginThrottled``) after too many failures for the account or ``client``
    (the caller's address)."""
    account = normalize_email(email)
    if not isinstance(password, str) or not is_valid_text(password):
        raise ValidationError(f"password: {NOT_TEXT}",
                              details=[{"field": "password", "problem": NOT_TEXT}])
    attempt = throttle.begin(account, client)
    if isinstance(attempt, Throttled):
        LOGIN_THROTTLED.labels(attempt.scope).inc()
        logger.bind(scope=attempt.scope, retry_after=attempt.retry_after).warning(
            "sign-in throttled")
        raise LoginThrottled(attempt)
    found = await asyncio.to_thread(_user_by_email, account)
    if len(password) > MAX_PASSWORD:
        ok = False  # never a valid password: no hashing of huge inputs
    elif found is None:
        # Spend the same time as a real check so the response does not reveal the account.
        await verify_password_async(await _dummy_hash(), password)
        ok = False
    else:
        ok = await verify_password_async(found[1], password)
    if not ok or found is None:
        LOGIN_FAILURES.inc()
        raise UnauthorizedError(WRONG_CREDENTIALS)
    throttle.succeeded(attempt)
    token, lifetime = create_access_token(found[0])
    return TokenPublic(access_token=token, expires_in=lifetime)


def token_user_id(token: str) -> uuid.UUID:
    """The user id a token names when its signature and claims are valid (no database read);
    UnauthorizedError (401) otherwise."""
    try:
        return decode_access_token(token)
    except InvalidToken as exc:
        raise UnauthorizedError(str(exc)) from exc


def user_from_token(*, session: Session, token: str) -> User:
    return existing_user(session=session, user_id=token_user_id(token))


GONE = "the account for this token no longer exists"


def existing_user(*, session: Session, user_id: uuid.UUID) -> User:
    """The account a verified token names; UnauthorizedError (401) when it no longer exists."""
    user = users.get_user(session=session, user_id=user_id)
    if user is None:
        raise UnauthorizedError(GONE)
    return user
