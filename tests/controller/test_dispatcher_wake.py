"""The dispatcher's wake-up: a job queued while a worker is looking for work (after its query,
before it sleeps) is claimed at once, not after the worker's one-second poll."""
from __future__ import annotations

import threading
import time

from controller.jobs.dispatcher import Dispatcher


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
