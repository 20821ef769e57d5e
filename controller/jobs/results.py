"""What a finished run reports: its final status and explanation, and its ``RunResult`` with
every secret scrubbed.

Contract: the same for local and remote runs.  ``job_args`` has each of the run's secrets
replaced by ``$encrypted$``; ``job_env`` masks a variable whose name looks sensitive or whose
value holds a secret.  Nothing here needs ansible-runner.
"""
from __future__ import annotations

import json
import time

from .events import secret_pattern
from .spec import RunResult, RunSpec

_SENSITIVE = ("PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")


def scrub_text(text: str, secrets: list) -> str:
    """``text`` with every one of ``secrets`` replaced by ``$encrypted$``."""
    pattern = secret_pattern(secrets)
    return pattern.sub("$encrypted$", text) if pattern else text


def masked_env(env: dict, secrets: list) -> dict:
    """``env`` as text, a sensitive-looking variable or one holding a secret shown as stars."""
    out = {}
    for key, value in env.items():
        text = str(value)
        if any(s in key.upper() for s in _SENSITIVE) or scrub_text(text, secrets) != text:
            out[key] = "**********"
        else:
            out[key] = text
    return out


def outcome(status: str, canceled: bool, spec: RunSpec, began: float) -> tuple[str, str]:
    """Runner's final status -> (Turret's status, job_explanation), the same for local and
    remote runs."""
    if status == "timeout":
        # runner says "timeout" for both limits: the run's own one is reached only if it lasted that long
        idle = spec.idle_timeout and not (spec.timeout and time.monotonic() - began >= spec.timeout)
        return "failed", (f"Job terminated due to timeout (no output for {spec.idle_timeout} seconds)"
                          if idle else "Job terminated due to timeout")
    if status == "canceled" or canceled:
        return "canceled", "Job was canceled"
    if status not in ("successful", "failed"):
        return "error", f"ansible-runner ended with status {status}"
    return status, ""


def run_result(spec: RunSpec, env: dict, status: str, rc: int | None, explanation: str, command: list,
               cwd: str, child_env: dict) -> RunResult:
    """The scrubbed result of a run: ``env`` is the env Turret set, ``child_env`` runner's
    (only Turret's, ansible's and runner's own variables of it are kept)."""
    return RunResult(status=status, rc=rc, explanation=explanation,
                     job_args=scrub_text(json.dumps(command), spec.secrets), job_cwd=cwd,
                     job_env=masked_env({k: v for k, v in child_env.items() if k in env or k.startswith(
                         ("ANSIBLE_", "RUNNER_", "AWX_", "JOB_"))}, spec.secrets))
