"""Authentication: Basic, Bearer tokens and login sessions (no web framework here).

Secrets are stored hashed: passwords with scrypt, tokens and session keys with SHA-256 (they
are random and long, so a fast hash is enough and keeps every request cheap).  Verified Basic
credentials are remembered for a minute so clients that send Basic on every request do not
pay the KDF each time.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import TYPE_CHECKING

from .errors import NotAuthenticated, Throttled
from .passwords import hash_token, verify_missing, verify_password
from .store import login_throttle, now_iso, sessions

if TYPE_CHECKING:
    from .config import Settings
    from .store import Store

_BAD_CREDENTIALS = "Invalid username/password. To establish a login session, visit /api/login/."


class LoginLimiter:
    """Counts failed logins per (client, username) over a sliding window.

    Past the limit the limiter never refuses a try outright (that would let anyone lock the
    rightful owner out, every client behind one proxy sharing an address): each further
    try waits a bounded, growing delay before its password is checked, so guessing slows
    down while the right password still gets in at once after that wait.

    The count lives in the database (``store.login_throttle``), not in this process: under
    ``turret serve`` with several web worker processes a guesser's tries land on all of them.
    """

    STEP = 0.25          # seconds of delay added per failure past the limit
    MAX_DELAY = 2.0      # the delay never grows beyond this

    def __init__(self, limit: int, window: int, store: Store) -> None:
        self.limit, self.window, self.store = limit, window, store
        self.step, self.max_delay = self.STEP, self.MAX_DELAY
        login_throttle.install(store)

    def check(self, client: str, username: str) -> tuple[int, tuple[float, int] | None]:
        """(failures of ``username`` from ``client`` within the window, and None under the
        limit, else (seconds to wait before checking the password, seconds until the oldest
        counted failure expires, for Retry-After)): one read."""
        now = time.time()
        count, oldest = login_throttle.recent(self.store, client, username, now - self.window)
        if count < self.limit or oldest is None:
            return count, None
        excess = count - self.limit + 1
        return count, (min(self.max_delay, self.step * excess), int(self.window - (now - oldest)) + 1)

    def failed(self, client: str, username: str) -> None:
        now = time.time()
        login_throttle.record(self.store, client, username, now, now - self.window)

    def succeeded(self, client: str, username: str) -> None:
        login_throttle.clear(self.store, client, username)


class Authenticator:
    """Turns credentials into a user row; owns sessions and the Basic cache."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.limiter = LoginLimiter(settings.LOGIN_FAILURES, settings.LOGIN_WINDOW, store)
        self._basic_cache: dict[str, tuple[int, str, float]] = {}
        self._lock = threading.Lock()

    # -- passwords -------------------------------------------------------------------------
    def check_password(self, username: str, password: str, client: str) -> dict | None:
        """The user with these credentials, or None (and the failure is counted).

        Past LOGIN_FAILURES failures of this username from this client the check first
        waits a bounded delay; then the right password succeeds (and clears the count)
        while a wrong one raises Throttled (429) instead of returning None.
        """
        failures, throttled = self.limiter.check(client, username)
        if throttled is not None:
            time.sleep(throttled[0])
        user = self._verify(username, password)
        if user is not None:
            if failures:    # a write only when there is a count to clear: Basic sends on every request
                self.limiter.succeeded(client, username)
            return user
        self.limiter.failed(client, username)
        if throttled is not None:
            raise Throttled(throttled[1])
        return None

    def _verify(self, username: str, password: str) -> dict | None:
        """The user if the password is right (remembered for a minute), else None."""
        key = hashlib.sha256(f"{username}\x00{password}".encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._basic_cache.get(key)
        user = sessions.user_named(self.store, username)
        if user is not None:
            if cached and cached[0] == user["id"] and cached[1] == user["password"] and cached[2] > now:
                return user
            if verify_password(password, user["password"]):
                with self._lock:
                    if len(self._basic_cache) > 10000:
                        self._basic_cache.clear()
                    self._basic_cache[key] = (user["id"], user["password"], now + 60)
                return user
        if user is None or not str(user["password"] or "").startswith("scrypt$"):
            verify_missing(password)    # as slow as a wrong password: no username enumeration
        return None

    def basic(self, username: str, password: str, client: str) -> dict:
        user = self.check_password(username, password, client)
        if user is None:
            raise NotAuthenticated(_BAD_CREDENTIALS)
        return user

    # -- tokens ----------------------------------------------------------------------------
    def bearer(self, token: str) -> tuple[dict, str] | None:
        """(user, scope) for a valid, unexpired token; None otherwise."""
        grant = sessions.token_grant(self.store, hash_token(token))
        if grant is None:
            return None
        user, scope, expires = grant
        if expires and expires < now_iso():
            return None
        return user, scope or "write"

    # -- sessions --------------------------------------------------------------------------
    def start_session(self, user_id: int) -> str:
        key = secrets.token_urlsafe(32)
        sessions.start_session(self.store, hash_token(key), user_id, time.time() + self.settings.SESSION_AGE)
        return key

    def session_user(self, key: str) -> dict | None:
        """The session's user, sliding its expiry; None for unknown or expired sessions."""
        digest = hash_token(key)
        row = sessions.session_of(self.store, digest)
        now = time.time()
        if row is None or row["expires"] < now:
            return None
        # Slide the expiry only when a noticeable part of it has passed: saves a write per request.
        if row["expires"] - now < self.settings.SESSION_AGE - 60:
            sessions.extend_session(self.store, digest, now + self.settings.SESSION_AGE)
        return self.store.get("users", row["user_id"])

    def end_session(self, key: str) -> None:
        sessions.end_session(self.store, hash_token(key))
