"""SQL of OAuth2 applications and the tokens bound to them (``/api/o/token/``'s grants)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from . import Store


def tokens_of(store: Store, app_ids: Sequence[int]) -> dict[int, list[dict]]:
    """{application id: its tokens (id, scope), oldest first} for those applications."""
    return store.grouped("SELECT application AS grouped_by, id, scope FROM tokens WHERE application IN ({marks}) "
                         "ORDER BY id", app_ids)


def application_by_client_id(store: Store, client_id: str) -> dict | None:
    """The application row (with its secret's digest) whose ``client_id`` is that, or None."""
    return store.one_dict("SELECT * FROM applications WHERE client_id = ?", (client_id,))


def token_by_refresh_hash(store: Store, refresh_hash: str) -> dict | None:
    """The token row whose refresh token has that digest, or None."""
    return store.one_dict("SELECT * FROM tokens WHERE refresh_token_hash = ? AND refresh_token_hash != ''",
                          (refresh_hash,))


def token_by_hash(store: Store, token_hash: str) -> dict | None:
    """The token row whose access token has that digest, or None."""
    return store.one_dict("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
