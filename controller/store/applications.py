"""SQL of OAuth2 applications and the tokens bound to them (``/api/o/token/``'s grants)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from . import Store


def tokens_of(store: Store, app_ids: Sequence[int]) -> dict[int, list[dict]]:
    """{application id: its tokens (id, scope), oldest first} for those applications."""
    out: dict[int, list[dict]] = {pk: [] for pk in app_ids}
    if not app_ids:
        return out
    marks = ",".join("?" * len(app_ids))
    for row in store.query(f"SELECT id, scope, application FROM tokens WHERE application IN ({marks}) "
                           "ORDER BY id", list(app_ids)):
        out[row["application"]].append({"id": row["id"], "scope": row["scope"]})
    return out


def application_by_client_id(store: Store, client_id: str) -> dict | None:
    """The application row (with its secret's digest) whose ``client_id`` is that, or None."""
    row = store.one("SELECT * FROM applications WHERE client_id = ?", (client_id,))
    return dict(row) if row else None


def token_by_refresh_hash(store: Store, refresh_hash: str) -> dict | None:
    """The token row whose refresh token has that digest, or None."""
    row = store.one("SELECT * FROM tokens WHERE refresh_token_hash = ? AND refresh_token_hash != ''",
                    (refresh_hash,))
    return dict(row) if row else None


def token_by_hash(store: Store, token_hash: str) -> dict | None:
    """The token row whose access token has that digest, or None."""
    row = store.one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
    return dict(row) if row else None
