"""The status vocabulary of unified jobs, declared once (DESIGN §4).

``new -> pending -> waiting -> running -> successful | failed | error | canceled``.  A job is
*active* until it reaches one of the *finished* states, and never leaves one.  Code that asks
"is it still going?" uses :data:`ACTIVE`/:data:`FINISHED` (or :func:`is_active`), and SQL
filters bind them as parameters (``store.jobs``) instead of restating the names.
"""
from __future__ import annotations

CHOICES: list[tuple[str, str]] = [
    ("new", "New"), ("pending", "Pending"), ("waiting", "Waiting"), ("running", "Running"),
    ("successful", "Successful"), ("failed", "Failed"), ("error", "Error"), ("canceled", "Canceled")]
# Tuples in life-cycle order (not sets): they are bound as SQL parameters and joined into
# query strings, where a stable order keeps statements and URLs the same from run to run.
ACTIVE: tuple[str, ...] = ("new", "pending", "waiting", "running")
FINISHED: tuple[str, ...] = ("successful", "failed", "error", "canceled")
QUEUED: tuple[str, ...] = ("new", "pending")        # not started: a cancel ends them at once
STARTED: tuple[str, ...] = ("waiting", "running")   # claimed by a worker
FAILED: tuple[str, ...] = ("failed", "error")       # ended badly (canceled is not a failure)


def is_active(status: str | None) -> bool:
    return status in ACTIVE
