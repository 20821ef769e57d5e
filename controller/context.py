"""The per-request context handed to every service: who is asking, and with what."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .store import rbac


class JobWorkers(Protocol):
    """What a request may ask of this process's job workers (``jobs.dispatcher.Dispatcher``).

    Launching a job never needs them: it writes the job ``pending`` and a worker of any process
    sharing the database claims it.  ``notify`` only wakes the local workers sooner."""

    def notify(self) -> None: ...

    def cancel(self, resource: str, pk: int) -> None: ...


@dataclass
class Context:
    """Store, registry and settings plus the authenticated user (a row dict) or None."""

    store: Any
    registry: Any
    settings: Any
    user: dict | None = None
    scope: str = "write"            # a "read" token may not change anything
    vault: Any = None               # controller.secrets.Vault of the data directory
    jobs: JobWorkers | None = None  # this process's job workers, if it runs any (None: API-only)
    cache: dict = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        return self.user["id"] if self.user else None

    @property
    def may_write(self) -> bool:
        """May this request change anything?  AWX ``APIView.check_permissions``: not when its
        OAuth token's scope lacks ``write`` (a "read" token), superusers included; sessions,
        Basic auth and "write" / "read write" tokens may."""
        return "write" in self.scope.split()

    @property
    def is_superuser(self) -> bool:
        return bool(self.user and self.user.get("is_superuser"))

    @property
    def is_auditor(self) -> bool:
        return bool(self.user and (self.user.get("is_system_auditor") or self.user.get("is_superuser")))

    def effective_roles(self) -> rbac.UserRoles:
        """The roles the user holds, as SQL over the few they are a direct member of (see
        :class:`~controller.store.rbac.UserRoles`: ``in`` is one query, listing them is not
        for request paths)."""
        if "eff" not in self.cache:
            self.cache["eff"] = rbac.UserRoles(self.store, self.user_id)
        return self.cache["eff"]

    def forget_roles(self) -> None:
        """After a grant, a revoke or new roles: answers about roles are asked again."""
        self.cache.pop("eff", None)
        self.cache.pop("holds", None)
        self.cache.pop("held_orgs", None)

    def reveal_once(self, pending: str, shown: str, pk: int) -> None:
        """A secret made before its row had an id (kept under ``cache[pending]`` by
        ``before_save``) becomes ``cache[shown][pk]``, for this request's answer only: the
        store keeps a hash, so it can never be shown again."""
        if pending in self.cache:
            self.cache.setdefault(shown, {})[pk] = self.cache.pop(pending)
