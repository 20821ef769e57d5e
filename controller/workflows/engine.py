"""Workflow jobs: launch, advance, cancel, relaunch (stub: signatures of the contract; being written)."""
from __future__ import annotations

from datetime import datetime


def launch_info(ctx, wfjt: dict) -> dict:
    raise NotImplementedError


def launch_workflow(ctx, wfjt: dict, body: dict, launch_type: str = "manual", trusted: bool = False,
                    extra_fields: dict | None = None) -> tuple[dict, dict]:
    raise NotImplementedError


def start_workflow(ctx, wfjt: dict, launch_type: str = "manual", body: dict | None = None,
                   extra_fields: dict | None = None) -> dict:
    raise NotImplementedError


def record_failed_launch(ctx, wfjt: dict, reason: str, extra_fields: dict | None = None,
                         launch_type: str = "scheduled") -> dict:
    raise NotImplementedError


def advance(ctx, workflow_job_id: int) -> None:
    raise NotImplementedError


def job_end_hook(ctx, resource: str, pk: int) -> None:
    raise NotImplementedError


def tick_hook(ctx, now: datetime) -> None:
    raise NotImplementedError


def cancel(ctx, workflow_job: dict) -> None:
    raise NotImplementedError


def relaunch(ctx, workflow_job: dict, body: dict) -> dict:
    raise NotImplementedError
