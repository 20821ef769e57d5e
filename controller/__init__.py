"""Turret: a small, fast Ansible automation controller with an AWX API v2 compatible API.

``create_app(overrides)`` wires settings, store, registry and blueprints; it starts no threads.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from .auth import Authenticator
from .config import VERSION, Settings
from .resources import build_registry
from .secrets import Vault
from .store import Store
from .store.install import ensure_install_uuid

__version__ = VERSION


@dataclass
class AppState:
    """Everything a request needs, built once per process."""

    settings: Settings
    store: Store
    registry: Any
    auth: Authenticator
    install_uuid: str
    node_name: str
    vault: Vault
    dispatcher: Any = None
    scheduler: Any = None
    notifier: Any = None   # controller.notifications.delivery.Sender
    webhook_poster: Any = None   # controller.webhooks.status.Poster

    def start_jobs(self, workers: int | None = None):
        """Start this process's job workers and, unless SCHEDULER_ENABLED is off, its
        scheduler thread (the web app itself never starts threads).  The workers run the
        unified-job kinds the registry declares."""
        from .jobs.dispatcher import Dispatcher   # lazily: it loads the executor (ansible-runner)
        if self.dispatcher is None:
            remote = None
            if self.settings.BROKER_URL:   # distributed: only then are Celery and Redis loaded
                from .workers.follower import RemoteRuns
                remote = RemoteRuns(self.settings.BROKER_URL)
            self.dispatcher = Dispatcher(self, self.registry.process_jobs(),
                                         workers if workers is not None else self.settings.JOB_WORKERS,
                                         capacity=self.settings.CAPACITY, remote=remote)
            self.dispatcher.start()
        if self.scheduler is None and self.settings.SCHEDULER_ENABLED:
            from .jobs.scheduler import Scheduler
            self.scheduler = Scheduler(self)
            self.scheduler.start()
        if self.notifier is None:
            from .notifications.delivery import Sender
            self.notifier = Sender(self)
            self.notifier.start()
        if self.webhook_poster is None:
            from .webhooks.status import Poster
            self.webhook_poster = Poster(self)
            self.webhook_poster.start()
        return self.dispatcher

    def stop_jobs(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
            self.notifier = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None
        if self.webhook_poster is not None:    # posts not sent by then wait in the outbox for the next start
            self.webhook_poster.stop()
            self.webhook_poster = None


def open_state(settings: Settings) -> AppState:
    """Open (and migrate) the data directory; no web framework involved."""
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    vault = Vault(data_dir / "secret.key")
    store = Store(str(settings.db_path))
    registry = build_registry()
    store.migrate(registry)
    from .store.role_ancestors import install as install_role_ancestors
    install_role_ancestors(store)   # role-ancestor table + triggers, before any role is written
    from .store.schedules import install as install_scheduler_tables
    install_scheduler_tables(store)   # fire ledger, lease, template ids shared across template tables
    from .store.notifications import install as install_notification_tables
    install_notification_tables(store)   # routing snapshots, the unique key of send records
    from .store.settings import install as install_settings_table
    install_settings_table(store)   # values changed through /api/v2/settings/
    from .store.webhook_rejections import install as install_webhook_rejections
    install_webhook_rejections(store)   # the cross-process cap on recorded forged deliveries
    from .store.webhook_status import install as install_webhook_status
    install_webhook_status(store)   # the outbox of webhook status posts (web workers record into it)
    store.keep_counts(settings.KEEP_COUNTS)   # last: its triggers go on every table created above
    from .services.settings import StoredSettings
    settings.attach(StoredSettings(store, vault))   # stored values win, seen without restart
    state_args: dict[str, Any] = dict(settings=settings, store=store, registry=registry, vault=vault)
    install_uuid = ensure_install_uuid(store)
    state = AppState(auth=Authenticator(store, settings), install_uuid=install_uuid,
                     node_name=socket.gethostname(), **state_args)
    from .resources.credentials import seed_managed_types
    seed_managed_types(state)   # every start: an upgrade refreshes changed managed definitions
    from .resources.instances import seed as seed_instances
    seed_instances(state)   # this node's instance (re-measured), its groups, the managed execution environment
    from .resources.role_definitions import seed_role_definitions
    seed_role_definitions(state)   # managed role definitions, grant triggers, assignment rows (after the seeds)
    return state


def create_app(overrides: dict[str, Any] | None = None, state: AppState | None = None):
    """The Flask application for one data directory."""
    from .api import generic, root, unified, web
    from .api import jobs as job_actions  # noqa: F401 - registers launch/relaunch/events_stream views
    from .api import workflows as workflow_actions  # noqa: F401 - registers the workflow action views
    from .api import notifications as notification_actions  # noqa: F401 - registers the test view
    from .api import credential_lookups  # noqa: F401 - registers the external credential test views
    from .api import instances as instance_actions  # noqa: F401 - registers the health_check view

    state = state or open_state(Settings(overrides))
    app = web.App(__name__)
    app.config["TURRET"] = state
    app.config["MAX_CONTENT_LENGTH"] = state.settings.MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(root.bp)
    app.register_blueprint(unified.bp)
    from .api import schedules as schedule_views; app.register_blueprint(schedule_views.bp)  # noqa: E702 - before generic
    from .api import webhooks as webhook_views; app.register_blueprint(webhook_views.bp)  # noqa: E702 - before generic
    from .api import settings as settings_views; app.register_blueprint(settings_views.bp)  # noqa: E702 - before generic
    from .api import bulk as bulk_views; app.register_blueprint(bulk_views.bp)  # noqa: E702 - before generic
    from .api import oauth as oauth_views; app.register_blueprint(oauth_views.bp)  # noqa: E702 - /api/o/
    from .api import dashboard as dashboard_views; app.register_blueprint(dashboard_views.bp)  # noqa: E702 - before generic
    from .api import subscriptions as subscription_views; app.register_blueprint(subscription_views.bp)  # noqa: E702
    from .api import system_jobs as system_job_views; app.register_blueprint(system_job_views.bp)  # noqa: E702 - before generic
    app.url_map.converters["plural"] = generic.plural_converter(state.registry)
    app.register_blueprint(generic.bp)
    web.install(app, state)
    from .api import bodies; bodies.install(app)  # noqa: E702 - small unread bodies drained after the answer
    from .api import paths; paths.install(app)  # noqa: E702 - /api/controller/ alias, request metrics
    from .ui import bp as ui_bp; app.register_blueprint(ui_bp)  # noqa: E702 - the web UI (/ui/)
    return app
