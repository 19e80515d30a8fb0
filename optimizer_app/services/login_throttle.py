"""Throttling of failed sign-ins, per account (normalized email) and per client address.

A sliding window kept **in memory, per process**: the web server is one process (one backend
worker, see ``scripts/run.sh``), and a restart forgetting the counts is acceptable for a
throttle (it is not an account lock-out). Running several web processes would give each its
own window; a window kept in the database would then be needed to share the counts.

* An account (any email, registered or not, so the answer does not reveal which exist) gets
  ``OPTIMIZER_LOGIN_MAX_FAILURES`` (default 10) failed attempts per
  ``OPTIMIZER_LOGIN_WINDOW_SECONDS`` (default 900); further attempts are refused with 429 until
  the oldest failure leaves the window, without checking the password. A successful sign-in
  clears the account's failures.
* A client address gets ``OPTIMIZER_LOGIN_MAX_FAILURES_PER_ADDRESS`` (default 50) failures per
  window over all accounts: one machine guessing many accounts' passwords. Generous, because
  several people may sign in from behind one NAT or proxy. The address is the TCP peer
  (``X-Forwarded-For`` is not trusted).

An attempt is counted as a failure when it starts (and forgiven when it succeeds), so a burst of
concurrent guesses cannot all slip past the check while the slow hashes run.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from optimizer_app.core.config import settings

MAX_KEYS = 200_000  # bound on remembered accounts + addresses; the oldest are forgotten first


@dataclass(frozen=True)
class Throttled:
    """A refused attempt: which limit, and in how many seconds the next attempt may be made."""

    scope: str  # "account" or "address"
    retry_after: int


@dataclass(frozen=True)
class Attempt:
    account: str
    address: str | None
    at: float


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def begin(self, account: str, address: str | None) -> Attempt | Throttled:
        """Start an attempt: refuse it (``Throttled``) or count it as a failure until
        ``succeeded`` is called."""
        now = self._clock()
        window = settings.login_window_seconds
        limits = [(("account", account), settings.login_max_failures)]
        if address:
            limits.append((("address", address), settings.login_max_failures_per_address))
        with self._lock:
            for key, limit in limits:
                times = self._recent(key, now, window)
                if len(times) >= limit:
                    # the attempt is allowed again once enough failures have left the window
                    frees_at = times[len(times) - limit] + window
                    return Throttled(key[0], max(1, math.ceil(frees_at - now)))
            for key, limit in limits:
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > limit:
                    times.popleft()
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)
        return Attempt(account, address, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: forget the account's failures and this attempt's count
        against the address."""
        with self._lock:
            self._failures.pop(("account", attempt.account), None)
            if attempt.address:
                times = self._failures.get(("address", attempt.address))
                if times is not None:
                    with contextlib.suppress(ValueError):
                        times.remove(attempt.at)

    def reset(self) -> None:
        with self._lock:
            self._failures.clear()

    def _recent(self, key: tuple[str, str], now: float, window: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times


throttle = LoginThrottle()
