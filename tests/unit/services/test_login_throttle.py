"""The sign-in throttle's sliding window, without HTTP."""

from __future__ import annotations

import pytest

from optimizer_app.core.config import settings
from optimizer_app.services import login_throttle
from optimizer_app.services.login_throttle import Attempt, LoginThrottle, Throttled


@pytest.fixture
def clock() -> list[float]:
    return [100.0]


@pytest.fixture
def throttle(clock: list[float], monkeypatch: pytest.MonkeyPatch) -> LoginThrottle:
    monkeypatch.setattr(settings, "login_max_failures", 3)
    monkeypatch.setattr(settings, "login_max_failures_per_address", 5)
    monkeypatch.setattr(settings, "login_window_seconds", 60.0)
    return LoginThrottle(clock=lambda: clock[0])


def test_attempts_in_flight_count_until_they_succeed(throttle: LoginThrottle) -> None:
    """Concurrent guesses cannot all pass the check while their hashes run."""
    attempts = [throttle.begin("a@x.io", "10.0.0.1") for _ in range(3)]
    assert all(isinstance(a, Attempt) for a in attempts)
    refused = throttle.begin("a@x.io", "10.0.0.1")
    assert refused == Throttled("account", 60)
    throttle.succeeded(attempts[0])  # type: ignore[arg-type]
    assert isinstance(throttle.begin("a@x.io", "10.0.0.1"), Attempt)


def test_retry_after_is_when_the_oldest_failure_leaves_the_window(
    throttle: LoginThrottle, clock: list[float]
) -> None:
    for _ in range(3):
        throttle.begin("a@x.io", None)
        clock[0] += 10
    assert throttle.begin("a@x.io", None) == Throttled("account", 30)
    clock[0] += 30
    assert isinstance(throttle.begin("a@x.io", None), Attempt)


def test_address_limit_spans_accounts(throttle: LoginThrottle) -> None:
    for i in range(5):
        assert isinstance(throttle.begin(f"u{i}@x.io", "10.0.0.9"), Attempt)
    refused = throttle.begin("new@x.io", "10.0.0.9")
    assert isinstance(refused, Throttled) and refused.scope == "address"
    assert isinstance(throttle.begin("new@x.io", "10.0.0.10"), Attempt)


def test_memory_is_bounded(throttle: LoginThrottle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_throttle, "MAX_KEYS", 10)
    for i in range(50):
        throttle.begin(f"u{i}@x.io", None)
    assert len(throttle._failures) == 10
