"""The dispatcher's wake-up: a job queued while a worker is looking for work (after its query,
before it sleeps) is claimed at once, not after the worker's one-second poll.  And the wake
datagrams of a web worker (``controller.jobs.wake``): a notification recorded by a request
there wakes the job process's notification sender."""
from __future__ import annotations

import sqlite3
import threading
import time

from controller.jobs.dispatcher import Dispatcher
from controller.jobs.wake import WakeListener, WakeSender, wake_address
from controller.store import jobs as q
from tests.support.jobs import make_org


class _LateQueue(Dispatcher):
    """Queues nothing itself: on its first look for work it finds none and, as a launch in
    another thread would, receives a notify() before it goes to sleep."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.looks: list[float] = []
        self.first_look_done = threading.Event()

    def _claim(self):
        self.looks.append(time.monotonic())
        if len(self.looks) == 1:
            self.notify()            # a job was queued after our (empty) query
            self.first_look_done.set()
        return None


def test_a_notify_during_a_look_for_work_is_not_lost(app_state):
    dispatcher = _LateQueue(app_state, [], workers=1)
    worker = threading.Thread(target=dispatcher._work, daemon=True)
    worker.start()
    try:
        assert dispatcher.first_look_done.wait(5)
        deadline = time.monotonic() + 5
        while len(dispatcher.looks) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(dispatcher.looks) >= 2
        # looked again at once (the old code slept out its 1 s poll after a lost wake-up)
        assert dispatcher.looks[1] - dispatcher.looks[0] < 0.5
    finally:
        _stop(dispatcher, [worker])


class _Counted(Dispatcher):
    """Finds a job on its first ``jobs`` looks (each runs ``hold`` seconds), nothing after;
    records every look (by thread) and how many jobs run at once."""

    def __init__(self, *args, jobs: int = 0, hold: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.looks: list[str] = []
        self.jobs, self.hold = jobs, hold
        self.running = self.most_at_once = self.done = 0
        self.conns: list[sqlite3.Connection] = []
        self.lock = threading.Lock()

    def _claim(self):
        with self.lock:
            self.looks.append(threading.current_thread().name)
            if len(self.looks) > self.jobs:
                return None
        return object(), {"id": len(self.looks)}, 0, False

    def _run(self, kind, row) -> None:
        self.state.store.scalar("SELECT 1")     # a job uses the database
        with self.lock:
            self.conns.append(self.state.store.conn)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(self.hold)
        with self.lock:
            self.running -= 1
            self.done += 1


def _workers(dispatcher: Dispatcher, n: int) -> list[threading.Thread]:
    threads = [threading.Thread(target=dispatcher._work, name=f"w{i}", daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def _stop(dispatcher: Dispatcher, threads: list[threading.Thread]) -> None:
    dispatcher._stop = True
    dispatcher.notify()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)


def _closed(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:     # "Cannot operate on a closed database."
        return True
    return False


def test_one_idle_worker_looks_for_work_per_wake(app_state):
    """Eight idle workers: a wake costs one look for work, not one per idle worker (each look is
    a query per job kind, and idle workers open no database connection of their own)."""
    dispatcher = _Counted(app_state, [], workers=8)
    threads = _workers(dispatcher, 8)
    try:
        time.sleep(0.2)
        before = len(dispatcher.looks)
        for _ in range(5):
            dispatcher.notify()
            time.sleep(0.05)
        time.sleep(0.1)
        # five wakes, plus at most one poll of the second that passed (was 8 looks a wake)
        assert 5 <= len(dispatcher.looks) - before <= 7, dispatcher.looks
    finally:
        _stop(dispatcher, threads)


def test_a_worker_that_claims_hands_the_looking_on(app_state):
    """While one worker runs what it claimed, the next idle worker looks at once: three jobs
    queued together run side by side."""
    dispatcher = _Counted(app_state, [], workers=4, jobs=3, hold=0.5)
    threads = _workers(dispatcher, 4)
    try:
        deadline = time.monotonic() + 5
        while dispatcher.most_at_once < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatcher.most_at_once == 3
        assert len(set(dispatcher.looks[:3])) == 3      # each claim by another worker
    finally:
        _stop(dispatcher, threads)


def test_a_worker_idle_for_a_while_closes_its_connection(app_state):
    """Workers that ran a job keep their connection while busy (warm statements for the next
    run) and close it once they have waited ``IDLE_SECONDS`` for their turn to look."""
    dispatcher = _Counted(app_state, [], workers=3, jobs=3, hold=0.3)
    dispatcher.IDLE_SECONDS = 0.5
    threads = _workers(dispatcher, 3)
    try:
        deadline = time.monotonic() + 5
        while dispatcher.done < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dispatcher.done == 3 and len(set(map(id, dispatcher.conns))) == 3
        time.sleep(1.5)
        # the one looking (here: one of the three) still holds its own; the two waiting do not
        assert sum(map(_closed, dispatcher.conns)) == 2
    finally:
        _stop(dispatcher, threads)


def test_a_released_connection_is_closed_and_the_next_statement_opens_another(app_state):
    store = app_state.store
    seen: list = []

    def use() -> None:
        first = store.conn
        store.scalar("SELECT 1")
        store.release()
        store.release()                         # nothing left to release: no error
        assert store.scalar("SELECT 2") == 2    # opens another
        seen.extend([first, store.conn])
        store.release()
    thread = threading.Thread(target=use)
    thread.start()
    thread.join(5)
    first, second = seen
    assert first is not second and first not in store._all and second not in store._all
    assert _closed(first) and _closed(second)


def test_the_daily_retention_run_sleeps_through_job_wakes(app_state, monkeypatch):
    """The retention thread looks once at start and then sleeps on its own: a launch or a job's
    end (notify) does not make it look again, and stop() ends it at once."""
    calls: list[float] = []
    monkeypatch.setattr("controller.jobs.dispatcher.q.claim_daily", lambda *a: calls.append(time.monotonic()))
    dispatcher = Dispatcher(app_state, [], workers=1)
    thread = threading.Thread(target=dispatcher._maintain, daemon=True)
    thread.start()
    try:
        time.sleep(0.2)
        for _ in range(5):
            dispatcher.notify()
        time.sleep(0.2)
        assert len(calls) == 1
    finally:
        started = time.monotonic()
        dispatcher.stop()
        thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 5


def test_a_daily_claim_not_due_takes_no_write_lock(app_state):
    """Not due, the claim only reads: it answers while another connection holds the write lock
    (it took that lock first, and waited for it, on every call)."""
    store = app_state.store
    assert q.claim_daily(store, "test_daily", 3600) is True
    other = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert q.claim_daily(store, "test_daily", 3600) is False
        assert time.monotonic() - started < 1
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert q.claim_daily(store, "test_daily", 0) is True     # due: claimed under the lock


class _Woken:
    """What a WakeListener hands datagrams to: records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.event = threading.Event()

    def notify(self) -> None:
        self.calls.append(("notify",))
        self.event.set()

    def cancel(self, resource: str, pk: int) -> None:
        self.calls.append(("cancel", resource, pk))
        self.event.set()

    def notifications(self) -> None:
        self.calls.append(("notifications",))
        self.event.set()


def test_a_send_recorded_in_a_web_worker_wakes_the_job_process_s_sender(admin, app_state, tmp_path):
    """A request whose process holds a WakeSender (a web worker of ``turret serve``) records a
    test send and sends the ``notifications`` datagram; the listener rings the sender's doorbell
    (here: a recorder) and nothing else."""
    woken = _Woken()
    listener = WakeListener(wake_address(tmp_path), woken, notifications=woken.notifications)
    listener.start()
    app_state.dispatcher = WakeSender(listener.address)
    try:
        org = make_org(admin)
        resp = admin.post("/api/v2/notification_templates/", {
            "name": "wake", "organization": org["id"], "notification_type": "webhook",
            "notification_configuration": {"url": "http://127.0.0.1:9/", "headers": {}}})
        assert resp.status_code == 201, resp.json
        assert woken.calls == []
        resp = admin.post(f"/api/v2/notification_templates/{resp.json['id']}/test/", {})
        assert resp.status_code == 202, resp.json
        assert woken.event.wait(5)
        assert woken.calls == [("notifications",)]
        record = admin.get(f"/api/v2/notifications/{resp.json['notification']}/").json
        assert record["status"] == "pending"    # no sender runs here: the record waits for one
        # the other kinds still reach the dispatcher; garbage is ignored
        woken.event.clear()
        app_state.dispatcher.cancel("job", 7)
        assert woken.event.wait(5)
        listener.handle(b"notifications 1")
        listener.handle(b"wake up")
        assert woken.calls == [("notifications",), ("cancel", "job", 7)]
    finally:
        app_state.dispatcher.close()
        app_state.dispatcher = None
        listener.stop()
