"""The dispatcher's wake-up: a job queued while a worker is looking for work (after its query,
before it sleeps) is claimed at once, not after the worker's one-second poll.  And the wake
datagrams of a web worker (``controller.jobs.wake``): a notification recorded by a request
there wakes the job process's notification sender."""
from __future__ import annotations

import threading
import time

from controller.jobs.dispatcher import Dispatcher
from controller.jobs.wake import WakeListener, WakeSender, wake_address
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
        dispatcher._stop = True
        dispatcher.notify()
        worker.join(5)


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
