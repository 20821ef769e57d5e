"""``turret`` command line: serve, worker, migrate, createsuperuser.  Parsing only; work is elsewhere."""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from .config import VERSION, Settings


def _overrides(args) -> dict:
    return {"DATA_DIR": getattr(args, "data_dir", None), "HOST": getattr(args, "host", None),
            "PORT": getattr(args, "port", None), "THREADS": getattr(args, "threads", None)}


def _settings(args) -> Settings:
    return Settings(_overrides(args))


def cmd_serve(args) -> int:
    from .serving import serve

    return serve(Settings({**_overrides(args), "WEB_WORKERS": getattr(args, "workers", None)}))


def cmd_migrate(args) -> int:
    from . import open_state

    state = open_state(_settings(args))
    print(f"Database at {state.settings.db_path} is up to date.")
    return 0


def cmd_createsuperuser(args) -> int:
    from . import open_state
    from .errors import APIError
    from .services.bootstrap import create_superuser

    state = open_state(_settings(args))
    password = args.password or os.environ.get("TURRET_SUPERUSER_PASSWORD")
    if not password:
        if args.noinput:
            print("error: --password or TURRET_SUPERUSER_PASSWORD is required with --noinput", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
    try:
        create_superuser(state, args.username, password, args.email or "")
    except APIError as exc:
        print(f"error: {exc.body}", file=sys.stderr)
        return 1
    print(f"Superuser {args.username!r} created.")
    return 0


def cmd_cleanup(args) -> int:
    from . import open_state
    from .services.bootstrap import system_context
    from .services.cleanup import cleanup

    state = open_state(_settings(args))
    days = args.days if args.days is not None else state.settings.KEEP_DAYS
    counts = cleanup(system_context(state), days)
    print("deleted " + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" older than {days} days")
    return 0


def cmd_docs(args) -> int:
    from pathlib import Path

    from .resources import build_registry
    from .services.docs import render

    text = render(build_registry())
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text() != text:
            print(f"{target} is out of date: run `turret docs`", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0


def cmd_worker(args) -> int:
    import logging

    from .workers.worker import WorkerOptions, parse_queues, run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    broker = args.broker or Settings().BROKER_URL
    if not broker:
        print("error: --broker or TURRET_BROKER_URL is required (redis://[:password@]host:port/db)", file=sys.stderr)
        return 2
    return run(WorkerOptions(broker_url=broker, queues=parse_queues(args.queues), concurrency=args.concurrency,
                             name=args.name or "", data_dir=args.data_dir, loglevel=args.loglevel))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="turret", description="Turret automation controller")
    parser.add_argument("--version", action="version", version=f"turret {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir(p):
        p.add_argument("--data-dir", help="data folder (default $TURRET_DATA_DIR or a per-user folder)")

    serve = sub.add_parser("serve", help="run the controller")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8013)")
    serve.add_argument("--threads", type=int, help="WSGI threads per web worker (default 16)")
    serve.add_argument("--workers", type=int, help="web worker processes (default $TURRET_WEB_WORKERS or one "
                                                   "per CPU; 1: a single process)")
    data_dir(serve)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    data_dir(migrate)
    migrate.set_defaults(func=cmd_migrate)

    su = sub.add_parser("createsuperuser", help="create a superuser")
    su.add_argument("--username", required=True)
    su.add_argument("--email")
    su.add_argument("--password", help="prefer TURRET_SUPERUSER_PASSWORD or the prompt")
    su.add_argument("--noinput", action="store_true")
    data_dir(su)
    su.set_defaults(func=cmd_createsuperuser)
    clean = sub.add_parser("cleanup", help="delete finished jobs and history older than --days")
    clean.add_argument("--days", type=int, help="keep this many days (default TURRET_KEEP_DAYS, 90)")
    data_dir(clean)
    clean.set_defaults(func=cmd_cleanup)

    worker = sub.add_parser("worker", help="run jobs sent by a controller through the broker (an execution node)")
    worker.add_argument("--broker", help="broker URL (default $TURRET_BROKER_URL): redis://[:password@]host:port/db "
                                         "or rediss://… for TLS")
    worker.add_argument("--queues", default="default",
                        help="comma-separated instance groups to serve (default: default)")
    worker.add_argument("--concurrency", type=int, default=0,
                        help="jobs run at once (default: derived from CPUs and memory, as AWX's capacity)")
    worker.add_argument("--name", help="instance name of this worker (default: the hostname)")
    worker.add_argument("--data-dir", help="scratch space for the jobs' private data dirs "
                                           "(default: ./turret-worker)")
    worker.add_argument("--loglevel", default="INFO", help="Celery's log level (default INFO)")
    worker.set_defaults(func=cmd_worker)

    docs = sub.add_parser("docs", help="write the API and settings reference derived from the declarations")
    docs.add_argument("--output", default="docs/reference.md")
    docs.add_argument("--check", action="store_true", help="fail if the file is not current")
    docs.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
