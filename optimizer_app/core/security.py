"""Password hashing (Argon2id) and access tokens (PyJWT, HS256 pinned)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from optimizer_app.core.config import settings

ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_access_token(subject: uuid.UUID) -> tuple[str, int]:
    now = datetime.now(UTC)
    lifetime = settings.jwt_lifetime_seconds
    claims = {
        "sub": str(subject),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=lifetime),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM), lifetime


class InvalidToken(Exception):
    pass


def decode_access_token(token: str) -> uuid.UUID:
    """Return the user id in a valid token; raise InvalidToken with a reason otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the access token has expired; sign in again") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken("the access token is invalid") from exc
