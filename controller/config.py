"""Every setting in one table: name, default, type, help.  Environment prefix ``TURRET_``.

Only the edges (CLI, app factory) read the environment; services receive a Settings object.
A setting with an AWX ``category`` is also served by ``/api/v2/settings/``; a value stored there
(in the database) wins over the environment and is seen without a restart (see ``Settings``).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

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
    minimum: int | None = None  # lowest value the settings API accepts (int settings)


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
    Setting("THREADS", 16, int, "Threads per web worker for requests that may wait: writes, bodies and live "
            "output (a browser following a job holds one while it runs). With granian, reads run on each "
            "worker's event loop instead."),
    Setting("WEB_WORKERS", 0, int, "Web worker processes of `turret serve` (0: one per CPU; 1: one process serving "
            "the API and running the jobs). Jobs, schedules and notifications always run in one process."),
    Setting("WEB_SERVER", "granian", str, "Server of `turret serve` with several web workers (`waitress` needs no "
            "extra package).", ("granian", "gunicorn", "waitress")),
    Setting("ADMIN_PASSWORD", "", str, "Password of the `admin` superuser created on an empty data dir "
            "(generated and printed once when empty)."),
    Setting("KEEP_COUNTS", True, bool, "Keep a list's `count`, and the order of ids of a list SQLite sorts, "
            "between requests until a table it could read is written, in any process (paging through a "
            "list and polling it repeat the same statements); false reads both on every request."),
    Setting("MAX_BODY_BYTES", 10 * 1024 * 1024, int, "Largest request body accepted (413 beyond)."),
    Setting("SESSION_AGE", 1800, int, "Seconds a login session lasts without activity (sliding)."),
    Setting("LOGIN_FAILURES", 10, int, "Failed logins per username and client in LOGIN_WINDOW before each "
            "further try is delayed (0.25 s more per failure, at most 2 s); a correct password always logs in."),
    Setting("LOGIN_WINDOW", 300, int, "Seconds over which failed logins are counted."),
    Setting("COOKIE_SECURE", False, bool, "Mark cookies Secure (only behind HTTPS)."),
    Setting("ALLOW_LOCAL_SCM_URLS", False, bool, "Allow file:// and local-path SCM URLs for projects."),
    Setting("ALLOW_JINJA_IN_EXTRA_VARS", "template", str, "Which extra vars of a job may hold Jinja that ansible "
            "renders: `template` only the job template's own, `never` none, `always` all (launch, survey, "
            "schedule and credential values included).", ("never", "template", "always"), category="jobs"),
    Setting("JOB_WORKERS", 16, int, "Worker threads running jobs in this process (0: run no jobs here)."),
    Setting("BROKER_URL", "", str, "Empty: jobs run in this process (embedded). "
            "`redis://[:password@]host:port/db` or `rediss://…` (TLS): jobs run on `turret worker`s through "
            "Celery with this Redis broker. The broker carries job payloads with their credentials: give it a "
            "password and keep it on a private network or use TLS."),
    Setting("AD_HOC_COMMANDS", ["command", "shell", "yum", "dnf", "apt", "apt_key", "apt_repository", "pip",
                                "service", "systemd", "group", "user", "mount", "ping", "setup", "copy", "file",
                                "template", "lineinfile", "stat", "git", "debug", "reboot", "package",
                                "win_ping", "win_service", "win_updates", "win_group", "win_user"], list,
            "Modules ad hoc commands may run (comma-separated in the environment).", category="jobs"),
    Setting("KEEP_DAYS", 90, int, "Finished jobs (with their events) older than this many days are deleted by "
            "the daily cleanup and `turret cleanup`.", category="system", minimum=1),
    Setting("SCHEDULER_ENABLED", True, bool, "Run the scheduler in processes that run jobs. Several processes may: "
            "one holds the lease and fires, the others take over when it stops renewing it."),
    Setting("SCHEDULER_LEASE_SECONDS", 30, int, "Seconds the scheduler lease lasts without renewal (renewed every "
            "second by the active scheduler)."),
    Setting("SCHEDULER_MISFIRE_GRACE", 90, int, "An occurrence missed by more than this many seconds (controller down) "
            "is skipped, not fired late; the schedule continues with its next occurrence after now."),
    Setting("CAPACITY", 0, int, "Capacity in forks of this node (0: 8 per CPU). A job takes min(forks, hosts) + 1; "
            "launches beyond capacity wait in pending, in order."),
    # -- bulk (P2) --
    Setting("BULK_JOB_MAX_LAUNCH", 100, int, "Most jobs one bulk job launch (`/api/v2/bulk/job_launch/`) may "
            "start.", category="bulk"),
    Setting("BULK_HOST_MAX_CREATE", 100, int, "Most hosts one bulk host create (`/api/v2/bulk/host_create/`) "
            "may add.", category="bulk"),
    Setting("BULK_HOST_MAX_DELETE", 250, int, "Most hosts one bulk host delete (`/api/v2/bulk/host_delete/`) "
            "may remove.", category="bulk"),
    # -- settings (P1) --
    Setting("AWX_TASK_ENV", {}, dict, "Environment variables set for every job, project update, inventory update "
            "and ad hoc command (a JSON object in the environment); a job's own credentials win.",
            category="jobs"),
    Setting("DEFAULT_JOB_TIMEOUT", 0, int, "Seconds a job may run when its template sets no timeout "
            "(0: no limit); beyond, it ends `failed`.", category="jobs", minimum=0),
    Setting("DEFAULT_JOB_IDLE_TIMEOUT", 0, int, "Seconds a job, update or ad hoc command may print nothing "
            "before it is ended `failed` (0: no limit).", category="jobs", minimum=0),
    Setting("DEFAULT_PROJECT_UPDATE_TIMEOUT", 0, int, "Seconds a project update may run when its project sets "
            "no timeout (0: no limit).", category="jobs", minimum=0),
    Setting("DEFAULT_INVENTORY_UPDATE_TIMEOUT", 0, int, "Seconds an inventory update may run when its source "
            "sets no timeout (0: no limit).", category="jobs", minimum=0),
    Setting("PROJECT_UPDATE_VVV", False, bool, "Run project updates with `-vvv`.", category="jobs"),
    Setting("SCHEDULE_MAX_JOBS", 10, int, "A schedule does not start its template while this many jobs of the "
            "template are already pending or waiting.", category="jobs", minimum=1),
    Setting("MAX_FORKS", 200, int, "Most forks a job template, launch or ad hoc command may ask for "
            "(0: no limit).", category="jobs", minimum=0),
    Setting("CUSTOM_LOGO", "", str, "Logo shown on the login page: a `data:image/...;base64,` URL "
            "(empty: none).", category="ui"),
    Setting("CUSTOM_LOGIN_INFO", "", str, "Text shown on the login page.", category="ui"),
    Setting("MANAGE_ORGANIZATION_AUTH", True, bool, "Organization and team admins may change memberships and "
            "grant roles to users; off: only superusers may.", category="system"),
    Setting("ORG_ADMINS_CAN_SEE_ALL_USERS", True, bool, "Organization admins see every user; off: only the users "
            "of their organizations.", category="system"),
    # -- metrics (P8) --
    Setting("ALLOW_METRICS_FOR_ANONYMOUS_USERS", False, bool, "Serve `/api/v2/metrics/` without authentication "
            "(off: superusers and system auditors only).", category="system"),
)


def _coerce(setting: Setting, raw: Any) -> Any:
    if setting.type is bool and isinstance(raw, str):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if setting.type is list:
        return [p.strip() for p in raw.split(",") if p.strip()] if isinstance(raw, str) else list(raw)
    if setting.type is dict:
        value = json.loads(raw) if isinstance(raw, str) else dict(raw)
        if not isinstance(value, dict):
            raise ValueError(f"TURRET_{setting.name} must be a JSON object")
        return value
    value = setting.type(raw)
    if setting.choices and value not in setting.choices:
        raise ValueError(f"TURRET_{setting.name} must be one of {', '.join(setting.choices)} (got {value!r})")
    return value


class SettingsSource(Protocol):
    """Where the settings stored through the API come from (``services.settings.StoredSettings``):
    ``version()`` is a cheap stamp that moves on every change, ``load()`` the stored values."""

    def version(self) -> Any: ...

    def load(self) -> dict[str, Any]: ...


REFRESH_SECONDS = 1.0   # how stale another process's change may be seen (this process: at once)


class Settings:
    """Resolved settings: stored (API) > explicit overrides > ``TURRET_<NAME>`` environment > default.

    Stored values come from an attached :class:`SettingsSource` and apply only to settings
    with a ``category`` (the API ones).  A read costs no SQL: the stored values are a cached
    overlay, and at most once per ``REFRESH_SECONDS`` one read of the source's version stamp
    says whether to reload it; :meth:`invalidate` (called by whoever writes) makes the next
    read check at once, so this process sees its own change immediately and every other
    process within ``REFRESH_SECONDS``, with no restart.
    """

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
        self._live = frozenset(s.name for s in SETTINGS if s.category)
        self._source: SettingsSource | None = None
        self._overlay: dict[str, Any] = {}
        self._stamp: Any = None
        self._checked = float("-inf")

    def attach(self, source: SettingsSource) -> None:
        """Overlay the values ``source`` stores (the database) from now on."""
        self._source = source
        self.invalidate()

    def invalidate(self) -> None:
        """Check the source again on the next read (after this process changed a setting)."""
        self._checked = float("-inf")

    def _stored(self) -> dict[str, Any]:
        source = self._source
        if source is None:
            return self._overlay
        now = time.monotonic()
        if now - self._checked >= REFRESH_SECONDS:
            self._checked = now
            stamp = source.version()
            if stamp != self._stamp:
                self._overlay, self._stamp = source.load(), stamp
        return self._overlay

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")   # absent while unpickling: no recursion
        if values is None or name not in values:
            raise AttributeError(name)
        value = values[name]
        if name in self._live:
            return self._stored().get(name, value)
        return value

    def base(self, name: str) -> Any:
        """The value without what is stored through the API (environment or default)."""
        return self._values[name]

    @property
    def data_dir(self) -> Path:
        return Path(self.DATA_DIR)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "turret.sqlite3"

    def as_dict(self) -> dict[str, Any]:
        stored = self._stored()
        return {name: stored.get(name, value) if name in self._live else value
                for name, value in self._values.items()}
