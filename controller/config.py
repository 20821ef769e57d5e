"""Every setting in one table: name, default, type, help.  Environment prefix ``TURRET_``.

Only the edges (CLI, app factory) read the environment; services receive a Settings object.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERSION = "0.1.0"
AWX_COMPAT_VERSION = "24.6.1"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: type
    help: str
    choices: tuple = ()     # allowed values (empty: any)
    category: str = ""      # AWX settings category slug (/api/v2/settings/<slug>/); "": not an API setting
    secret: bool = False    # shown as $encrypted$ by the settings API, encrypted when stored


SETTINGS: tuple[Setting, ...] = (
    Setting("DATA_DIR", "", str, "Folder for the SQLite database, the secret key and job artifacts "
            "(default: a per-user data folder)."),
    Setting("HOST", "127.0.0.1", str, "Address `turret serve` binds to."),
    Setting("PORT", 8013, int, "Port `turret serve` listens on."),
    Setting("URL_BASE", "", str, "External address of this controller (e.g. `https://turret.example.com`), used in "
            "the links notifications carry; empty: `http://HOST:PORT`."),
    Setting("WEBHOOK_STATUS_API_URL", "", str, "Replaces the `scheme://host[:port]` of the status URLs webhook "
            "events carry (GitHub statuses, GitLab commit statuses, Bitbucket DC build status), e.g. a GitHub "
            "Enterprise API address; empty: post where the event says."),
    Setting("WEBHOOK_MAX_BODY_BYTES", 5 * 1024 * 1024, int, "Largest webhook delivery accepted by the receivers "
            "(413 beyond)."),
    Setting("WEBHOOK_RATE_LIMIT", 60, int, "Webhook launches per template (or project) per minute; a delivery "
            "beyond answers 429 with Retry-After (0: no limit)."),
    Setting("THREADS", 16, int, "Worker threads of the WSGI server (a browser following live job output holds "
            "one while the job runs)."),
    Setting("ADMIN_PASSWORD", "", str, "Password of the `admin` superuser created on an empty data dir "
            "(generated and printed once when empty)."),
    Setting("MAX_BODY_BYTES", 10 * 1024 * 1024, int, "Largest request body accepted (413 beyond)."),
    Setting("SESSION_AGE", 1800, int, "Seconds a login session lasts without activity (sliding)."),
    Setting("LOGIN_FAILURES", 10, int, "Failed logins per username and client in LOGIN_WINDOW before each "
            "further try is delayed (0.25 s more per failure, at most 2 s); a correct password always logs in."),
    Setting("LOGIN_WINDOW", 300, int, "Seconds over which failed logins are counted."),
    Setting("COOKIE_SECURE", False, bool, "Mark cookies Secure (only behind HTTPS)."),
    Setting("ALLOW_LOCAL_SCM_URLS", False, bool, "Allow file:// and local-path SCM URLs for projects."),
    Setting("ALLOW_JINJA_IN_EXTRA_VARS", "template", str, "Which extra vars of a job may hold Jinja that ansible "
            "renders: `template` only the job template's own, `never` none, `always` all (launch, survey, "
            "schedule and credential values included).", ("never", "template", "always")),
    Setting("JOB_WORKERS", 16, int, "Worker threads running jobs in this process (0: run no jobs here)."),
    Setting("AD_HOC_COMMANDS", ["command", "shell", "yum", "dnf", "apt", "apt_key", "apt_repository", "pip",
                                "service", "systemd", "group", "user", "mount", "ping", "setup", "copy", "file",
                                "template", "lineinfile", "stat", "git", "debug", "reboot", "package",
                                "win_ping", "win_service", "win_updates", "win_group", "win_user"], list,
            "Modules ad hoc commands may run (comma-separated in the environment)."),
    Setting("KEEP_DAYS", 90, int, "Finished jobs (with their events) older than this many days are deleted by "
            "the daily cleanup and `turret cleanup`."),
    Setting("SCHEDULER_ENABLED", True, bool, "Run the scheduler in processes that run jobs. Several processes may: "
            "one holds the lease and fires, the others take over when it stops renewing it."),
    Setting("SCHEDULER_LEASE_SECONDS", 30, int, "Seconds the scheduler lease lasts without renewal (renewed every "
            "second by the active scheduler)."),
    Setting("SCHEDULER_MISFIRE_GRACE", 90, int, "An occurrence missed by more than this many seconds (controller down) "
            "is skipped, not fired late; the schedule continues with its next occurrence after now."),
    Setting("CAPACITY", 0, int, "Capacity in forks of this node (0: 8 per CPU). A job takes min(forks, hosts) + 1; "
            "launches beyond capacity wait in pending, in order."),
)


def _coerce(setting: Setting, raw: Any) -> Any:
    if setting.type is bool and isinstance(raw, str):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if setting.type is list:
        return [p.strip() for p in raw.split(",") if p.strip()] if isinstance(raw, str) else list(raw)
    value = setting.type(raw)
    if setting.choices and value not in setting.choices:
        raise ValueError(f"TURRET_{setting.name} must be one of {', '.join(setting.choices)} (got {value!r})")
    return value


class Settings:
    """Resolved settings: explicit overrides > ``TURRET_<NAME>`` environment > default."""

    def __init__(self, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        values = {}
        for s in SETTINGS:
            if overrides and overrides.get(s.name) is not None:
                values[s.name] = _coerce(s, overrides[s.name])
            elif f"TURRET_{s.name}" in env:
                values[s.name] = _coerce(s, env[f"TURRET_{s.name}"])
            else:
                values[s.name] = s.default
        if not values["DATA_DIR"]:
            base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
            values["DATA_DIR"] = os.path.join(base, "turret")
        # absolute and normalized once, here: run folders, and the process sweep that finds a
        # run's processes by their path, must not depend on the cwd or on "..", links or "~"
        values["DATA_DIR"] = os.path.realpath(os.path.expanduser(values["DATA_DIR"]))
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_dir(self) -> Path:
        return Path(self.DATA_DIR)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "turret.sqlite3"

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)
