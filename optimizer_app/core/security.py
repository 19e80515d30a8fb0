"""Password hashing (Argon2id) and access tokens (PyJWT, HS256 pinned).

Argon2 is slow on purpose (~tens of ms and ~19 MiB per call with the production cost), so async
code never runs it on the event loop: ``hash_password_async`` / ``verify_password_async`` hand it
to a small bounded thread pool (``OPTIMIZER_PASSWORD_HASH_WORKERS``, default 2; argon2-cffi
releases the GIL while hashing), whose threads run at a lower CPU priority. Calls beyond the
pool's size wait in its queue, so a burst of sign-ins costs at most that many cores and that
much memory at once."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from optimizer_app.core.config import settings
from optimizer_app.core.priority import lower_this_thread

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


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _hash_pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(
                max_workers=settings.password_hash_workers, thread_name_prefix="password-hash",
                initializer=_lower_priority,
            )
        return _POOL


HASH_THREAD_NICENESS = 3


def _lower_priority() -> None:
    """A hashing thread yields the CPU to the web server's other threads (status polls, health
    checks) and still comes before the backtests (local workers run at niceness 10). Linux
    gives each thread its own niceness; elsewhere this changes nothing."""
    lower_this_thread(HASH_THREAD_NICENESS)


async def hash_password_async(password: str) -> str:
    """``hash_password`` in the hashing pool; the event loop keeps serving other requests."""
    return await asyncio.wrap_future(_hash_pool().submit(hash_password, password))


async def verify_password_async(password_hash: str, password: str) -> bool:
    """``verify_password`` in the hashing pool; the event loop keeps serving other requests."""
    return await asyncio.wrap_future(_hash_pool().submit(verify_password, password_hash, password))


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


# Tokens already verified: the signature and claims of the same token string under the same
# settings never change, only whether it has expired. Checking a signature is a third of a
# status poll's CPU, and a page polls with one token every second.
_VERIFIED: OrderedDict[tuple[str, str, str, str], tuple[uuid.UUID, float]] = OrderedDict()
_VERIFIED_LOCK = threading.Lock()
VERIFIED_TOKENS_KEPT = 4_096
EXPIRED = "the access token has expired; sign in again"


def decode_access_token(token: str) -> uuid.UUID:
    """Return the user id in a valid token; raise InvalidToken with a reason otherwise."""
    key = (token, settings.jwt_secret, settings.jwt_audience, settings.jwt_issuer)
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(key)
        if known is not None:
            _VERIFIED.move_to_end(key)
    if known is not None:
        user_id, expires = known
        if time.time() < expires + LEEWAY_SECONDS:
            return user_id
        raise InvalidToken(EXPIRED)
    user_id, expires = _verify(token)
    with _VERIFIED_LOCK:
        _VERIFIED[key] = (user_id, expires)
        while len(_VERIFIED) > VERIFIED_TOKENS_KEPT:
            _VERIFIED.popitem(last=False)
    return user_id


def _verify(token: str) -> tuple[uuid.UUID, float]:
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
        return uuid.UUID(claims["sub"]), float(claims["exp"])
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken(EXPIRED) from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken("the access token is invalid") from exc
