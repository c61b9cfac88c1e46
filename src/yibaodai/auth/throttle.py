"""Failed log-in throttle (the ``limits`` library): at most N failures per username and M per
client address in a moving window; past that, log-in is refused without checking the password.

The counters live in process memory (``limits``' MemoryStorage): right for one server process,
as ``yibaodai serve`` runs; several processes would each count their own (use a shared
storage such as Redis then: ``limits.storage.storage_from_string``). The window runs on the
wall clock, not the injected business clock: it limits guessing speed in real time."""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from yibaodai.settings import Settings


class LoginThrottle:
    def __init__(self, settings: Settings) -> None:
        window = settings.login_window_minutes
        self._per_user = RateLimitItemPerMinute(settings.login_failures_per_user, window)
        self._per_address = RateLimitItemPerMinute(settings.login_failures_per_address, window)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def blocked(self, *, username: str, address: str) -> str | None:
        """Which limit is exhausted ("user" or "address"), or None."""
        if not self._limiter.test(self._per_user, "user", username.casefold()):
            return "user"
        if not self._limiter.test(self._per_address, "address", address):
            return "address"
        return None

    def failed(self, *, username: str, address: str) -> None:
        self._limiter.hit(self._per_user, "user", username.casefold())
        self._limiter.hit(self._per_address, "address", address)

    def succeeded(self, *, username: str) -> None:
        """A correct password clears the user's failures (not the address's)."""
        self._limiter.clear(self._per_user, "user", username.casefold())
