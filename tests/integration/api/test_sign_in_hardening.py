"""Sign-in hardening through HTTP: throttling (429 + Retry-After + metric), password rules,
email normalization (NFKC, casefold, invisible characters)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from optimizer_app.core.config import settings
from optimizer_app.core.metrics import LOGIN_THROTTLED
from optimizer_app.services.login_throttle import throttle
from optimizer_app.services.passwords import COMMON, CONTAINS_EMAIL
from tests.integration.api.conftest import PASSWORD, assert_error

REGISTER, TOKEN = "/api/v1/auth/register", "/api/v1/auth/token"


@pytest.fixture(autouse=True)
def fresh_throttle() -> Iterator[None]:
    throttle.reset()
    yield
    throttle.reset()


def _email(prefix: str = "h") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}@example.com"


def _account(client: TestClient) -> str:
    email = _email()
    assert client.post(REGISTER, json={"email": email, "password": PASSWORD}).status_code == 201
    return email


def _throttled(scope: str) -> float:
    return LOGIN_THROTTLED.labels(scope)._value.get()


# --- throttling ---------------------------------------------------------------------------------


def test_repeated_failures_for_one_account_are_429_with_retry_after(client: TestClient) -> None:
    email = _account(client)
    before = _throttled("account")
    for _ in range(settings.login_max_failures):
        wrong = client.post(TOKEN, json={"email": email, "password": "wrong password 1"})
        assert_error(wrong, 401, "unauthorized")
    refused = client.post(TOKEN, json={"email": email, "password": PASSWORD})  # even the right one
    error = assert_error(refused, 429, "too_many_requests")
    retry_after = int(refused.headers["retry-after"])
    assert 0 < retry_after <= settings.login_window_seconds
    assert str(retry_after) in error["message"]
    assert _throttled("account") == before + 1
    metrics = client.get("/metrics").text
    assert 'login_throttled_total{scope="account"}' in metrics


def test_the_throttle_is_per_account(client: TestClient) -> None:
    attacked, other = _account(client), _account(client)
    for _ in range(settings.login_max_failures):
        client.post(TOKEN, json={"email": attacked, "password": "wrong password 1"})
    assert client.post(TOKEN, json={"email": attacked, "password": PASSWORD}).status_code == 429
    assert client.post(TOKEN, json={"email": other, "password": PASSWORD}).status_code == 200


def test_unknown_accounts_are_throttled_like_real_ones(client: TestClient) -> None:
    email = _email("nobody")
    for _ in range(settings.login_max_failures):
        assert client.post(TOKEN, json={"email": email, "password": "guess guess"}).status_code \
            == 401
    assert_error(client.post(TOKEN, json={"email": email, "password": "x" * 12}), 429)


def test_the_account_key_is_the_normalized_email(client: TestClient) -> None:
    email = _account(client)
    variants = [email.upper(), f"  {email}  ", email.replace("@", "\uff20")]  # fullwidth @
    for i in range(settings.login_max_failures):
        variant = variants[i % len(variants)]
        client.post(TOKEN, json={"email": variant, "password": "wrong password 1"})
    assert client.post(TOKEN, json={"email": email, "password": PASSWORD}).status_code == 429


def test_success_clears_the_account_failures(client: TestClient) -> None:
    email = _account(client)
    for _ in range(3):
        for _ in range(settings.login_max_failures - 1):
            client.post(TOKEN, json={"email": email, "password": "wrong password 1"})
        assert client.post(TOKEN, json={"email": email, "password": PASSWORD}).status_code == 200


def test_failures_from_one_address_over_many_accounts_are_429(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "login_max_failures_per_address", 5)
    before = _throttled("address")
    for _ in range(5):
        client.post(TOKEN, json={"email": _email(), "password": "wrong password 1"})
    refused = client.post(TOKEN, json={"email": _email(), "password": "wrong password 1"})
    assert_error(refused, 429, "too_many_requests")
    assert int(refused.headers["retry-after"]) > 0
    assert _throttled("address") == before + 1


def test_the_window_slides(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(throttle, "_clock", lambda: now[0])
    email = _account(client)
    for _ in range(settings.login_max_failures):
        client.post(TOKEN, json={"email": email, "password": "wrong password 1"})
        now[0] += 1
    refused = client.post(TOKEN, json={"email": email, "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == settings.login_window_seconds - 10
    now[0] += settings.login_window_seconds - 10 + 0.5  # the oldest failure has left the window
    assert client.post(TOKEN, json={"email": email, "password": PASSWORD}).status_code == 200


def test_throttle_limits_are_configurable(client: TestClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "login_max_failures", 2)
    email = _account(client)
    for _ in range(2):
        client.post(TOKEN, json={"email": email, "password": "wrong password 1"})
    assert client.post(TOKEN, json={"email": email, "password": PASSWORD}).status_code == 429


def test_form_sign_in_is_throttled_too(client: TestClient) -> None:
    email = _account(client)
    for _ in range(settings.login_max_failures):
        client.post(TOKEN, data={"username": email, "password": "wrong password 1"})
    assert_error(client.post(TOKEN, data={"username": email, "password": PASSWORD}), 429)


# --- password rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["password", "12345678", "1234567890", "qwertyuiop", "Password123", "QWERTYUIOP",
     "iloveyou12", "1q2w3e4r5t", "aaaaaaaaaaaa", "password2024"],
)
def test_common_passwords_are_refused_with_the_reason(client: TestClient, password: str) -> None:
    response = client.post(REGISTER, json={"email": _email(), "password": password})
    error = assert_error(response, 422, "validation_error")
    problems = {d["field"]: d["problem"] for d in error["details"]}
    if len(password) >= 10:
        assert problems == {"password": COMMON}
        assert "commonly used passwords" in error["message"]
    else:
        assert "use 10 to 256 characters" in problems["password"]


def test_short_and_overlong_passwords_are_refused(client: TestClient) -> None:
    for password in ("nine char", "x" * 257):
        error = assert_error(client.post(REGISTER, json={"email": _email(), "password": password}),
                             422)
        assert error["details"] == [{"field": "password",
                                     "problem": "use 10 to 256 characters"}]
    ok = client.post(REGISTER, json={"email": _email(), "password": "ten chars!"})
    assert ok.status_code == 201, ok.text
    ok = client.post(REGISTER, json={"email": _email(), "password": "é" * 256})
    assert ok.status_code == 201, ok.text


def test_passwords_containing_the_email_are_refused(client: TestClient) -> None:
    email = _email("researcher")
    local = email.split("@")[0]
    for password in (email, email.upper(), f"my {email} pw", local, f"{local.upper()}!!"):
        response = client.post(REGISTER, json={"email": email, "password": password})
        error = assert_error(response, 422)
        assert {"field": "password", "problem": CONTAINS_EMAIL} in error["details"], password


def test_the_test_password_is_valid(client: TestClient) -> None:
    assert client.post(REGISTER, json={"email": _email(), "password": PASSWORD}).status_code == 201


# --- email normalization ------------------------------------------------------------------------


def test_fullwidth_and_case_variants_are_one_account(client: TestClient) -> None:
    local = f"ann{uuid.uuid4().hex[:8]}"
    email = f"{local}@example.com"
    assert client.post(REGISTER, json={"email": email, "password": PASSWORD}).status_code == 201
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in email.upper())
    for variant in (fullwidth, email.upper(), f"\t{email} ", email.replace("a", "A")):
        assert_error(client.post(REGISTER, json={"email": variant, "password": PASSWORD}), 409,
                     "conflict")
    token = client.post(TOKEN, json={"email": fullwidth, "password": PASSWORD})
    assert token.status_code == 200, token.text


def test_registered_email_is_stored_normalized(client: TestClient) -> None:
    local = f"bea{uuid.uuid4().hex[:8]}"
    response = client.post(REGISTER, json={"email": f" {local.upper()}@EXAMPLE.com ",
                                           "password": PASSWORD})
    assert response.json()["email"] == f"{local}@example.com"


@pytest.mark.parametrize("hidden", ["\u200b", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u0007",
                                    "\u202e", "\ue000"])
def test_invisible_and_control_characters_in_emails_are_422(client: TestClient,
                                                            hidden: str) -> None:
    email = _email()
    response = client.post(REGISTER, json={"email": email.replace("@", f"{hidden}@"),
                                           "password": PASSWORD})
    error = assert_error(response, 422, "validation_error")
    assert error["details"][0]["field"] == "email"
    assert f"U+{ord(hidden):04X}" in error["message"]
    login = client.post(TOKEN, json={"email": f"{hidden}{email}", "password": PASSWORD})
    assert_error(login, 422)
