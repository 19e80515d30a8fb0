import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from optimizer_app.core import security
from optimizer_app.core.config import settings


def _claims(**overrides: object) -> dict:
    now = datetime.now(UTC)
    claims = {
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = security.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert security.verify_password(hashed, "correct horse")
    assert not security.verify_password(hashed, "wrong horse")
    assert not security.verify_password("not-a-hash", "correct horse")


def test_token_round_trip() -> None:
    user_id = uuid.uuid4()
    token, lifetime = security.create_access_token(user_id)
    assert lifetime == settings.jwt_lifetime_seconds
    assert security.decode_access_token(token) == user_id


@pytest.mark.parametrize(
    "claims",
    [
        _claims(aud="someone-else"),
        _claims(iss="someone-else"),
        _claims(exp=datetime.now(UTC) - timedelta(minutes=5)),
        _claims(sub=None),
        _claims(iat=None),
        _claims(sub="not-a-uuid"),
    ],
    ids=["audience", "issuer", "expired", "no-sub", "no-iat", "bad-sub"],
)
def test_bad_claims_are_rejected(claims: dict) -> None:
    token = jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(token)


def test_other_algorithms_and_alg_none_are_rejected() -> None:
    claims = _claims()
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(jwt.encode(claims, settings.jwt_secret, algorithm="HS512"))
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(unsigned)


def test_tampered_and_foreign_key_tokens_are_rejected() -> None:
    token, _ = security.create_access_token(uuid.uuid4())
    header, payload, signature = token.split(".")
    tampered = ".".join(
        [header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")]
    )
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(tampered)
    foreign = jwt.encode(_claims(), "another-secret-" + "x" * 32, algorithm="HS256")
    with pytest.raises(security.InvalidToken):
        security.decode_access_token(foreign)


def test_hashing_threads_yield_to_the_web_server() -> None:
    """The pool's threads run at a lower CPU priority than the rest of the web server (Linux:
    per thread; a process already niced further keeps its own, higher niceness)."""
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert security._hash_pool().submit(niceness).result() >= security.HASH_THREAD_NICENESS
    assert niceness() < security.HASH_THREAD_NICENESS or os.nice(0) >= 3  # not the caller's
