"""The event writer: one transaction per window, and a barrier (a job's end) that does not wait
out the window — a job's final state follows its last event at once."""
from __future__ import annotations

import json
import threading
import time

from controller.jobs.event_writer import EventWriter
from controller.store import Store


def _writer(tmp_path, max_wait: float) -> tuple[Store, EventWriter]:
    store = Store(str(tmp_path / "events.db"))
    store.execute("CREATE TABLE ev (n INTEGER)")
    writer = EventWriter(store, max_wait=max_wait)
    writer.start()
    return store, writer


def _barrier_latency(writer: EventWriter, store: Store, rows: int) -> tuple[float, int]:
    done = threading.Event()
    seen: list[int] = []

    def callback() -> None:
        seen.append(store.count("ev"))
        done.set()

    for n in range(rows):
        writer.put("ev", {"n": n})
    began = time.monotonic()
    writer.finish(callback)
    assert done.wait(5)
    return time.monotonic() - began, seen[0]


def test_a_barrier_runs_once_everything_before_it_is_stored_without_waiting_the_window(tmp_path):
    store, writer = _writer(tmp_path, max_wait=2.0)
    try:
        latency, stored = _barrier_latency(writer, store, rows=50)
        assert stored == 50                  # every event queued before the barrier is committed
        assert latency < 0.5, latency        # not the 2 s window
        latency, stored = _barrier_latency(writer, store, rows=0)    # a barrier alone
        assert stored == 50 and latency < 0.5, latency
    finally:
        writer.stop()
        store.close()


def test_events_without_a_barrier_are_still_batched_in_one_window(tmp_path):
    store, writer = _writer(tmp_path, max_wait=0.5)
    try:
        for n in range(20):
            writer.put("ev", {"n": n})
        time.sleep(0.1)
        assert store.count("ev") == 0        # still gathering: one transaction per window
        deadline = time.monotonic() + 5
        while store.count("ev") < 20:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        writer.stop()
        store.close()


def test_event_data_json_keeps_what_the_standard_library_would():
    """orjson writes the kept event data; values it refuses (integers beyond 64 bits) and
    non-string keys still come out, and the text parses back to the same data."""
    from controller.jobs.events import event_row
    data = {"host": "h1", "res": {"big": 2 ** 70, "ünï": "çødé", "n": None, "f": 1.5, 3: "int key"}}
    row = event_row({"event": "runner_on_ok", "counter": 1, "event_data": data}, "job", 1, "now")
    assert json.loads(row["event_data"]) == {"host": "h1", "res": {"big": 2 ** 70, "ünï": "çødé", "n": None,
                                                                  "f": 1.5, "3": "int key"}}
    plain = {"host": "h1", "res": {"x": [1, 2], "when": object.__new__(object)}}
    parsed = json.loads(event_row({"event": "runner_on_ok", "event_data": plain}, "job", 1, "now")["event_data"])
    assert parsed["res"]["x"] == [1, 2] and parsed["res"]["when"].startswith("<object object")
