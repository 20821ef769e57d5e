"""A real event writer for the tests that drive it directly."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from controller.jobs.event_writer import EventWriter


@contextmanager
def batching_writer(store) -> Iterator[EventWriter]:
    """A started :class:`EventWriter` over ``store`` with a long window, so everything queued
    before a barrier is one batch; stopped after the block, its thread gone."""
    writer = EventWriter(store, max_wait=2.0)
    writer.start()
    try:
        yield writer
    finally:
        writer.stop()
    assert not writer._thread.is_alive()
