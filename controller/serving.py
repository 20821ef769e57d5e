"""``turret serve``: the API on one process or on several web worker processes, the jobs once.

Contract:

* ``WEB_WORKERS`` = 1 keeps the embedded single process: waitress serves the API and the same
  process runs the job dispatcher, scheduler, notification sender and event writer.
* More workers (0 = one per CPU): the ``turret serve`` process opens the data dir, builds the
  app (every import done once), then forks the web server (``WEB_SERVER``: granian, gunicorn
  or waitress processes sharing one socket; granian through :mod:`controller.api.rsgi`) **before**
  starting any thread, so no lock or SQLite connection crosses a fork.  Only then does it
  start the job stack and the wake listener (:mod:`controller.jobs.wake`): the web workers
  run no job thread; they write jobs ``pending`` / flag cancels in the database and wake this
  process with a datagram.
  Everything a worker shows (job state, SSE output, settings, sessions, the login throttle)
  is read from the database, so it does not matter which worker serves a request.
* SIGTERM or SIGINT stops the web server (its workers end), then the job stack (running jobs
  are canceled, their events stored), then returns 0.  When the web server dies on its own,
  the job stack is stopped too and ``serve`` returns 1: one command, one lifetime.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any, Callable

from . import AppState, create_app, metrics, open_state
from .config import VERSION, Settings
from .jobs.wake import WakeListener, WakeSender, wake_address
from .api.actions import SLOW_READS
from .api.rsgi import SlowReads, WSGIOverRSGI
from .api.web import slow_paths
from .services.bootstrap import initialize

log = logging.getLogger("turret.serve")
STOP_SECONDS = 10       # how long web workers may take to finish their requests on stop
_APP: Any = None        # the app the forked web workers serve (set before the fork)
rsgi_app: WSGIOverRSGI | None = None    # the same app as granian's workers serve it (idem)


def wsgi_app(environ: dict, start_response: Callable) -> Any:
    """The WSGI entry point of forked gunicorn and waitress workers (granian's is ``rsgi_app``)."""
    return _APP(environ, start_response)


def worker_count(settings: Settings) -> int:
    """Web worker processes to run: ``WEB_WORKERS``, or one per CPU when it is 0."""
    return settings.WEB_WORKERS if settings.WEB_WORKERS > 0 else (os.cpu_count() or 1)


def serve(settings: Settings) -> int:
    """Open the data dir, then serve until SIGTERM/SIGINT (see the module contract)."""
    started = time.monotonic()
    logging.basicConfig()   # warnings (reaped jobs, a dying web server) reach stderr
    state = open_state(settings)
    generated = initialize(state, settings.ADMIN_PASSWORD)
    if generated:
        print(f"Created superuser 'admin' with password: {generated}  (shown once)", flush=True)
    app = create_app(state=state)
    workers = worker_count(settings)
    how = "1 process" if workers <= 1 else f"{workers} {settings.WEB_SERVER} workers"
    print(f"Turret {VERSION} serving http://{settings.HOST}:{settings.PORT}/ ({how}; "
          f"data dir {settings.data_dir}, ready in {time.monotonic() - started:.2f}s)", flush=True)
    if workers <= 1:
        return _serve_single(state, app)
    return _serve_forked(state, app, workers)


# -- one process ------------------------------------------------------------------------------
def _serve_single(state: AppState, app: Any) -> int:
    """waitress and the job stack in this process; the job stack starts in the background,
    as loading the executor (ansible-runner) must not delay the API being ready."""
    from waitress import create_server

    settings = state.settings
    server = create_server(app, host=settings.HOST, port=settings.PORT, threads=settings.THREADS,
                           ident="turret", clear_untrusted_proxy_headers=True, channel_timeout=120)
    starter = None
    if settings.JOB_WORKERS > 0 or settings.BROKER_URL:   # with a broker: dispatch to workers even with 0
        starter = threading.Thread(target=state.start_jobs, name="turret-start-jobs", daemon=True)
        starter.start()
    _exit_on_signals()
    server.run()    # returns on SystemExit/KeyboardInterrupt (our signal handler raises one)
    if starter is not None:
        starter.join(timeout=30)
    state.stop_jobs()
    return 0


def _exit_on_signals() -> None:
    """SIGTERM and SIGINT end the main thread's loop (waitress returns from ``run``); a second
    one is ignored, so it cannot interrupt the stop of the job stack that follows."""
    def stop(signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


# -- several processes ------------------------------------------------------------------------
def slow_reads(state: AppState, app: Any) -> SlowReads:
    """The reads granian's workers answer on their pool, not inline (``api.rsgi``): declared
    slow actions (``api.actions.SLOW_READS``) and the views marked ``api.web.slow``."""
    actions = frozenset((state.registry[resource].plural if resource else "*", name) for resource, name in SLOW_READS)
    return SlowReads(actions, slow_paths(app))


def _serve_forked(state: AppState, app: Any, workers: int) -> int:
    global _APP, rsgi_app
    settings = state.settings
    address = wake_address(settings.data_dir)
    # bound without SO_REUSEPORT: a port in use fails here, as with one process, instead of
    # granian's per-worker SO_REUSEPORT sockets silently sharing it with another server
    probe = socket.create_server((settings.HOST, settings.PORT), backlog=1024)
    listen = probe if settings.WEB_SERVER == "waitress" else None   # waitress workers share this one
    if listen is None:
        probe.close()
    _APP = app
    rsgi_app = WSGIOverRSGI(app, settings.THREADS, settings.MAX_BODY_BYTES, slow_reads(state, app))
    metrics.share_between_processes(str(settings.data_dir / "metrics"))   # a scrape sums every process
    state.store.close()                          # each process opens its own connections
    state.dispatcher = WakeSender(address)       # what the web workers' requests wake
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    if threading.active_count() > 1:    # create_app's contract: no thread before the fork
        log.warning("forking the web server with %d threads running", threading.active_count())
    parent = os.getpid()
    child = os.fork()
    if child == 0:      # the web server: no thread has started yet in this process
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _die_with(parent)
            _run_web(settings, workers, listen)
            code = 0
        except SystemExit as exc:   # how gunicorn's arbiter, and the workers it forks, end
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:  # noqa: BLE001 - reported, then this process ends, whatever it was
            log.exception("the web server failed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    if listen is not None:
        listen.close()
    state.dispatcher = None
    listener = None
    try:
        if settings.JOB_WORKERS > 0 or settings.BROKER_URL:   # with a broker: dispatch to workers even with 0
            dispatcher = state.start_jobs()
            listener = WakeListener(address, dispatcher)
            listener.start()
            dispatcher.notify()     # jobs queued while the listener was not bound yet
        code = _wait(child, stop_requested)
    finally:
        if listener is not None:
            listener.stop()
        state.stop_jobs()
    return code


def _die_with(parent: int) -> None:
    """Have this process SIGTERMed when ``parent`` dies, even by SIGKILL (Linux), so no web
    worker outlives the job stack it wakes; elsewhere the parent's SIGTERM stop is all."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)    # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:      # it died before the call took effect
        os._exit(1)


def _wait(child: int, stop_requested: threading.Event) -> int:
    """Until a stop is requested (then the web server is stopped: 0) or it exits by itself (1)."""
    while not stop_requested.wait(0.2):
        pid, _status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            log.error("the web server exited; stopping")
            return 1
    _stop_child(child)
    return 0


def _stop_child(child: int) -> None:
    """SIGTERM the web server, SIGKILL its process group after ``STOP_SECONDS`` more."""
    try:
        os.kill(child, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_SECONDS + 5
    while time.monotonic() < deadline:
        pid, _status = os.waitpid(child, os.WNOHANG)
        if pid == child:
            return
        time.sleep(0.05)
    log.error("the web server did not stop within %d s; killing it", STOP_SECONDS + 5)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)


def _run_web(settings: Settings, workers: int, listen: socket.socket | None) -> None:
    """Run ``WEB_SERVER`` with ``workers`` processes serving :func:`wsgi_app` until SIGTERM."""
    if settings.WEB_SERVER == "granian":
        _run_granian(settings, workers)
    elif settings.WEB_SERVER == "gunicorn":
        _run_gunicorn(settings, workers)
    else:
        assert listen is not None
        _run_waitress(settings, workers, listen)


def _run_granian(settings: Settings, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    # RSGI, not WSGI: reads run on each worker's event loop thread, the rest on our pool (api.rsgi)
    Granian(f"{__name__}:rsgi_app", address=settings.HOST, port=settings.PORT, interface=Interfaces.RSGI,
            workers=workers, backlog=1024, log_access=False,
            workers_kill_timeout=STOP_SECONDS).serve()


def _run_gunicorn(settings: Settings, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": f"{settings.HOST}:{settings.PORT}", "workers": workers,
                               "worker_class": "gthread", "threads": settings.THREADS, "timeout": 0,
                               "graceful_timeout": STOP_SECONDS, "keepalive": 75, "backlog": 1024,
                               "accesslog": None, "proc_name": "turret-web"}.items():
                self.cfg.set(key, value)

        def load(self) -> Callable:
            return wsgi_app

    Application().run()


def _run_waitress(settings: Settings, workers: int, listen: socket.socket) -> None:
    """``workers`` forked waitress processes accepting on one shared socket."""
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            from waitress import create_server
            server = create_server(wsgi_app, sockets=[listen], threads=settings.THREADS, ident="turret",
                                   clear_untrusted_proxy_headers=True, channel_timeout=120)
            _exit_on_signals()
            server.run()
            os._exit(0)
        children.append(pid)
    listen.close()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    while not stopping.wait(0.2):
        if any(os.waitpid(pid, os.WNOHANG)[0] == pid for pid in children):
            break       # a worker died: end them all, the parent stops the job stack
    for pid in children:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
