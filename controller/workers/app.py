"""The Celery application shared by the controller (which sends) and ``turret worker`` (which runs).

One function builds it from a broker URL so both sides agree on every setting that makes a
job start at most once and never get redelivered while it runs.
"""
from __future__ import annotations

from celery import Celery

TASK_RUN_JOB = "turret.run_job"
#: Above the longest job timeout a controller allows: Redis redelivers an unacknowledged task
#: after this many seconds, and a task is acknowledged only when its job ends (acks_late).
VISIBILITY_TIMEOUT = 7 * 24 * 3600


def make_celery(broker_url: str, *, name: str = "turret") -> Celery:
    """A Celery app on ``broker_url`` (``redis://`` or ``rediss://``) with Turret's settings:
    JSON only, late acknowledgement, prefetch 1, a visibility timeout above any job's length,
    no result backend (job state lives in the controller's database, never in Celery)."""
    app = Celery(name, broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_default_queue="default",
        task_create_missing_queues=True,
        enable_utc=True,
    )
    return app
