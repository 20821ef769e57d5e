"""SQL of authentication: users by name, API tokens and login sessions.

Tokens and session keys are stored only as digests (``token_hash``, ``key_hash``: the
caller hashes, see :mod:`controller.passwords`); session expiry is a UNIX time, token expiry
an ISO timestamp (AWX's format), each compared by the caller.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import now_iso

if TYPE_CHECKING:
    from . import Store


def user_named(store: Store, username: str) -> dict | None:
    """The user row (with its password hash) of that exact username."""
    return store.one_dict("SELECT * FROM users WHERE username = ?", (username,))


def token_grant(store: Store, token_hash: str) -> tuple[dict, str | None, str | None] | None:
    """``(user row, scope, expires)`` of the token with that digest, expired or not; None when
    no token has it or its user is gone.  One statement: every API request signed with a token
    asks it."""
    row = store.one("SELECT t.scope, t.expires, u.* FROM tokens t JOIN users u ON u.id = t.user"
                    " WHERE t.token_hash = ?", (token_hash,))
    if row is None:
        return None
    values = tuple(row)
    return dict(zip(row.keys()[2:], values[2:])), values[0], values[1]


def start_session(store: Store, key_hash: str, user_id: int, expires: float) -> None:
    """Record a session and the user's ``last_login``; drop sessions already expired."""
    with store.transaction():
        store.insert("sessions", {"key_hash": key_hash, "user_id": user_id, "expires": expires,
                                  "created": now_iso()})
        store.update("users", user_id, {"last_login": now_iso()})
        store.delete_where("sessions", "expires < ?", [time.time()])


def session_of(store: Store, key_hash: str) -> dict | None:
    """``{"user_id", "expires"}`` of the session with that digest, expired or not."""
    return store.one_dict("SELECT user_id, expires FROM sessions WHERE key_hash = ?", (key_hash,))


def extend_session(store: Store, key_hash: str, expires: float) -> None:
    """Move the session's expiry to ``expires``."""
    with store.transaction():
        store.execute("UPDATE sessions SET expires = ? WHERE key_hash = ?", (expires, key_hash))


def end_session(store: Store, key_hash: str) -> None:
    with store.transaction():
        store.delete_where("sessions", "key_hash = ?", [key_hash])
