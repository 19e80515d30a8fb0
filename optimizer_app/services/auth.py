"""Sign-up, sign-in and token checks — used by the REST API and the UI alike."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from optimizer_app.core.errors import ConflictError, UnauthorizedError, ValidationError
from optimizer_app.core.logging import logger
from optimizer_app.core.security import (
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password,
    verify_password,
)
from optimizer_app.persistence import users
from optimizer_app.persistence.models import User
from optimizer_app.services.schemas import TokenPublic, UserPublic

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
_DUMMY_HASH: str | None = None


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _check_credentials_shape(email: str, password: str) -> None:
    problems = []
    if not EMAIL_RE.match(email) or len(email) > 320:
        problems.append({"field": "email", "problem": "enter a valid email address"})
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problems.append(
            {"field": "password", "problem": f"use {MIN_PASSWORD} to {MAX_PASSWORD} characters"}
        )
    if problems:
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise ValidationError(message, details=problems)


def register_user(*, session: Session, email: str, password: str) -> UserPublic:
    email = normalize_email(email)
    _check_credentials_shape(email, password)
    if users.get_user_by_email(session=session, email=email):
        raise ConflictError("an account with this email already exists; sign in instead")
    try:
        user = users.create_user(
            session=session, email=email, password_hash=hash_password(password)
        )
    except IntegrityError as exc:
        raise ConflictError("an account with this email already exists; sign in instead") from exc
    logger.bind(user_id=str(user.id)).info("user registered")
    return UserPublic.model_validate(user)


def login(*, session: Session, email: str, password: str) -> TokenPublic:
    global _DUMMY_HASH
    user = users.get_user_by_email(session=session, email=normalize_email(email))
    if user is None:
        # Spend the same time as a real check so the response does not reveal the account.
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-real-password")
        verify_password(_DUMMY_HASH, password or "")
        raise UnauthorizedError("wrong email or password")
    if not verify_password(user.password_hash, password or ""):
        raise UnauthorizedError("wrong email or password")
    token, lifetime = create_access_token(user.id)
    return TokenPublic(access_token=token, expires_in=lifetime)


def user_from_token(*, session: Session, token: str) -> User:
    try:
        user_id = decode_access_token(token)
    except InvalidToken as exc:
        raise UnauthorizedError(str(exc)) from exc
    user = users.get_user(session=session, user_id=user_id)
    if user is None:
        raise UnauthorizedError("the account for this token no longer exists")
    return user
