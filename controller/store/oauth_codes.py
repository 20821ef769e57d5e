"""SQL of OAuth2 authorization codes (``/api/o/authorize/`` issues them, ``/api/o/token/``
exchanges them).

Only a code's SHA-256 digest is stored, never the code.  A code is taken (read and deleted in
one statement), so it can be exchanged once even when two requests race; expired codes are
deleted whenever a new one is issued, so the table stays small.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Store

_TABLE = ("CREATE TABLE IF NOT EXISTS oauth_codes (id INTEGER PRIMARY KEY, code_hash TEXT NOT NULL UNIQUE, "
          "application INTEGER NOT NULL, user_id INTEGER NOT NULL, redirect_uri TEXT NOT NULL, "
          "scope TEXT NOT NULL, code_challenge TEXT NOT NULL, "
          "code_challenge_method TEXT NOT NULL, expires REAL NOT NULL)")
_AGE_INDEX = "CREATE INDEX IF NOT EXISTS oauth_codes_expires ON oauth_codes (expires)"
_installed: set[str] = set()    # database paths this process has created the table in


def install(store: Store) -> None:
    """Create the table and its index (idempotent; once per process and database file)."""
    if store.path in _installed:
        return
    with store.transaction():
        store.execute(_TABLE)
        store.execute(_AGE_INDEX)
    _installed.add(store.path)


def save(store: Store, code_hash: str, grant: dict[str, Any], lifetime: float) -> None:
    """Store a new code (``grant``: application, user_id, redirect_uri, scope, code_challenge,
    code_challenge_method) valid for ``lifetime`` seconds; forget expired ones."""
    install(store)
    now = time.time()
    with store.transaction():
        store.execute("DELETE FROM oauth_codes WHERE expires < ?", (now,))
        store.execute(
            "INSERT INTO oauth_codes (code_hash, application, user_id, redirect_uri, scope, "
            "code_challenge, code_challenge_method, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (code_hash, grant["application"], grant["user_id"], grant["redirect_uri"], grant["scope"],
             grant["code_challenge"], grant["code_challenge_method"], now + lifetime))


def take(store: Store, code_hash: str) -> dict | None:
    """The unexpired code with that digest, deleted as it is read (single use); None otherwise."""
    install(store)
    with store.transaction():
        rows = store.dicts("DELETE FROM oauth_codes WHERE code_hash = ? RETURNING *", (code_hash,))
    if not rows or rows[0]["expires"] < time.time():
        return None
    return rows[0]
