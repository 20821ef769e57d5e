"""Names of everything Turret keeps in the broker's Redis, in one place so the controller and
the workers agree.  A job is named by its resource and id (``job``, ``project_update`` …)."""
from __future__ import annotations

PREFIX = "turret"


def _job(resource: str, pk: int) -> str:
    return f"{PREFIX}:{resource}:{pk}"


def payload(resource: str, pk: int) -> str:
    """The ``ansible-runner transmit`` stream of one job (credentials inside): written by the
    controller just before the task is sent, taken (GETDEL) by the worker that claims it."""
    return f"{_job(resource, pk)}:payload"


def stream(resource: str, pk: int) -> str:
    """Redis stream of the ``ansible-runner worker`` output frames of one job, plus Turret's
    own claim and end frames; read by the controller from the last entry it stored."""
    return f"{_job(resource, pk)}:stream"


def claim_reply(resource: str, pk: int, nonce: str) -> str:
    """List the controller pushes its answer to a worker's claim onto ("yes" / "no")."""
    return f"{_job(resource, pk)}:claim:{nonce}"


def cancel(resource: str, pk: int) -> str:
    """Set by the controller when the job is to be canceled; watched by the worker running it."""
    return f"{_job(resource, pk)}:cancel"


def heartbeat(resource: str, pk: int) -> str:
    """Refreshed (with a short expiry) by the worker while it runs the job."""
    return f"{_job(resource, pk)}:hb"


def worker(name: str) -> str:
    """Hash a live worker keeps refreshed (with a short expiry): what the controller mirrors
    into ``/api/v2/instances/``."""
    return f"{PREFIX}:worker:{name}"


WORKER_PATTERN = f"{PREFIX}:worker:*"
