"""The event writer when a batch cannot be stored whole: the rows that can be stored are, the
barrier behind them learns whether its job's rows all were (``settle``), the writer thread
lives on, and a followed stream keeps the entries of the events that were lost.  A real SQLite
file and a real writer thread; rows are refused by a trigger, a value SQLite cannot bind, or a
lock held by another connection."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from types import SimpleNamespace

import pytest

from controller.jobs import event_writer
from controller.jobs import events as ev
from controller.jobs.event_writer import EventWriter
from controller.store import Store
from controller.workers import follower
from tests.support.event_writers import batching_writer

SECRET = "hunter2-not-for-logs"


@pytest.fixture()
def db(tmp_path):
    """A store with an ``ev`` table whose trigger refuses the rows marked ``bad``."""
    store = Store(str(tmp_path / "events.db"))
    store.execute("CREATE TABLE ev (job INTEGER, counter INTEGER, mark TEXT, event TEXT)")
    store.execute("CREATE TRIGGER refuse BEFORE INSERT ON ev WHEN NEW.mark = 'bad' "
                  "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    yield store
    store.close()


@pytest.fixture()
def writer(db):
    with batching_writer(db) as w:
        yield w


def settle(writer: EventWriter, job: int, timeout: float = 10) -> bool:
    outcome = writer.wait_settled(("ev", "job", job), timeout)
    assert outcome is not None, "the barrier did not fire"
    return outcome


def counters(store: Store, job: int) -> list[int]:
    return [r[0] for r in store.query("SELECT counter FROM ev WHERE job = ? ORDER BY counter", (job,))]


def put_job(writer: EventWriter, job: int, count: int, bad: dict[int, object] | None = None) -> None:
    """``count`` rows of ``job`` (counters 1..count); ``bad``: counter -> the mark that spoils it."""
    for n in range(1, count + 1):
        writer.put("ev", {"job": job, "counter": n, "mark": (bad or {}).get(n, SECRET)})


def test_one_refused_row_loses_only_itself_and_its_jobs_barrier_says_so(db, writer, caplog):
    caplog.set_level(logging.INFO, logger="turret.events")
    put_job(writer, 1, 300, bad={150: "bad"})
    put_job(writer, 2, 300)
    plain = threading.Event()
    writer.finish(plain.set)                 # the old form still works for callers that do not care
    assert settle(writer, 1) is False
    assert settle(writer, 2) is True         # another job's rows in the same batch were all stored
    assert plain.wait(5)
    assert counters(db, 1) == [n for n in range(1, 301) if n != 150]
    assert counters(db, 2) == list(range(1, 301))
    assert writer.given_up(("ev", "job", 1), "counter") == {150}
    assert writer.given_up(("ev", "job", 2), "counter") == set()
    lines = [r.getMessage() for r in caplog.records if r.name == "turret.events"]
    assert any("gave up on 1 of 600 events of ev" in line and "IntegrityError" in line for line in lines), lines
    assert sum("gave up" in line for line in lines) == 1           # logged once
    assert SECRET not in caplog.text                               # never a row's content


def test_a_value_sqlite_refuses_and_a_later_good_batch(db, writer):
    put_job(writer, 3, 50, bad={7: 2 ** 70, 8: {"not": "bindable"}})   # OverflowError, ProgrammingError
    assert settle(writer, 3) is False
    assert counters(db, 3) == [n for n in range(1, 51) if n not in (7, 8)]
    assert writer.given_up(("ev", "job", 3), "counter") == {7, 8}
    put_job(writer, 4, 20)                   # the writer lives on: the next batch is stored whole
    assert settle(writer, 4) is True and counters(db, 4) == list(range(1, 21))
    # a job's losses hold for its later barriers, until its last one (final) forgets them
    assert writer.wait_settled(("ev", "job", 3), 5, final=True) is False
    assert writer.given_up(("ev", "job", 3), "counter") == set()


def test_a_statement_the_table_refuses_loses_only_its_own_rows(db, writer, caplog):
    caplog.set_level(logging.INFO, logger="turret.events")
    put_job(writer, 12, 20)
    writer.put("ev", {"job": 12, "counter": 21, "no_such_column": 1})    # its own INSERT statement
    assert settle(writer, 12) is False
    assert counters(db, 12) == list(range(1, 21))
    assert writer.given_up(("ev", "job", 12), "counter") == {21}
    assert not any("retry" in r.getMessage() for r in caplog.records)   # no whole retry for it


def test_a_good_batch_fires_ok(db, writer):
    put_job(writer, 5, 100)
    assert settle(writer, 5) is True and counters(db, 5) == list(range(1, 101))
    assert settle(writer, 6) is True         # a job with no rows at all: nothing was lost


def _slow_lock_timeout(writer: EventWriter, db: Store) -> None:
    """The writer's connection waits 50 ms for a lock (not 30 s), set in the writer's thread."""
    done = threading.Event()
    writer.finish(lambda: (db.execute("PRAGMA busy_timeout=50"), done.set()))
    assert done.wait(5)


def test_a_lock_held_past_the_busy_timeout_is_outlasted_by_one_retry(db, writer, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="turret.events")
    monkeypatch.setattr(event_writer, "RETRY_PAUSE", 0.6)     # wide margins: first try at ~0.05 s, retry at ~0.65 s
    _slow_lock_timeout(writer, db)
    blocker = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    put_job(writer, 7, 40)
    threading.Timer(0.3, lambda: blocker.execute("ROLLBACK")).start()    # between the two
    assert settle(writer, 7) is True
    assert counters(db, 7) == list(range(1, 41))
    assert any("the retry stored it" in r.getMessage() for r in caplog.records)
    blocker.close()


def test_a_lock_held_for_long_gives_the_batch_up_without_hanging_or_killing_the_writer(db, writer, caplog):
    caplog.set_level(logging.INFO, logger="turret.events")
    _slow_lock_timeout(writer, db)
    blocker = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        put_job(writer, 8, 30)
        began = time.monotonic()
        assert settle(writer, 8) is False
        assert time.monotonic() - began < 2      # two tries, no piece by piece wait on the lock
        assert writer.given_up(("ev", "job", 8), "counter") == set(range(1, 31))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert any("gave up on 30 of 30 events of ev" in r.getMessage() and "OperationalError" in r.getMessage()
               for r in caplog.records)
    put_job(writer, 9, 10)
    assert settle(writer, 9) is True and counters(db, 9) == list(range(1, 11))
    assert counters(db, 8) == []


def test_a_job_that_lost_count_cannot_say_ok_and_blinds_no_other_job(db, writer, monkeypatch):
    monkeypatch.setattr(event_writer, "LEDGER_MAX", 2)
    put_job(writer, 10, 5, bad={1: "bad", 2: "bad", 3: "bad"})
    put_job(writer, 11, 5, bad={4: "bad"})
    assert settle(writer, 10) is False
    assert writer.given_up(("ev", "job", 10), "counter") is None    # past its cap: it cannot tell
    assert writer.given_up(("ev", "job", 11), "counter") == {4}     # another job's count is whole
    put_job(writer, 12, 5)
    assert settle(writer, 12) is True        # a later job: stored, and the writer says so
    assert settle(writer, 10) is False       # never a false "stored" for the job that lost count
    # its final barrier forgets it: a later barrier of the same scope starts clean
    assert writer.wait_settled(("ev", "job", 10), 5, final=True) is False
    assert writer.given_up(("ev", "job", 10), "counter") == set()
    put_job(writer, 10, 3)
    assert settle(writer, 10) is True
    assert counters(db, 10) == [1, 2, 3, 4, 5]


def test_an_event_row_names_its_job_first_so_the_ledger_files_its_loss_by_job():
    row = ev.event_row({"event": "runner_on_ok", "counter": 3, "event_data": {"host": "h"}}, "job", 5, "now")
    assert next(iter(row)) == "job"
    ledger = event_writer._Ledger()
    ledger.note("job_events", [row])
    assert ledger.lost(("job_events", "job", 5)) == {3} and ledger.lost(("job_events", "job", 6)) == set()


def test_the_ledger_stays_bounded_by_dropping_the_oldest_scopes_only(monkeypatch, caplog):
    """Across scopes: past ``LEDGER_ROWS`` counters the scopes that lost rows longest ago cannot
    tell; past ``LEDGER_SCOPES`` the oldest is evicted (logged): it cannot tell either, never
    "nothing lost"; newer scopes keep their count."""
    monkeypatch.setattr(event_writer, "LEDGER_ROWS", 10)
    monkeypatch.setattr(event_writer, "LEDGER_SCOPES", 3)
    ledger = event_writer._Ledger()
    for job in (1, 2, 3):
        ledger.note("ev", [{"job": job, "counter": n} for n in range(1, 5)])    # 12 counters > 10
    assert ledger.lost(("ev", "job", 1)) is None
    assert ledger.lost(("ev", "job", 2)) == {1, 2, 3, 4} and ledger.lost(("ev", "job", 3)) == {1, 2, 3, 4}
    ledger.note("ev", [{"job": 2, "counter": 9}] + [{"job": 4, "counter": n} for n in (1, 2)])  # 11 > 10
    assert ledger.lost(("ev", "job", 1)) is None                   # the 4th scope evicted it: cannot tell
    assert ledger.lost(("ev", "job", 3)) is None      # the oldest set made room (job 2 lost rows since)
    assert ledger.lost(("ev", "job", 2)) == {1, 2, 3, 4, 9} and ledger.lost(("ev", "job", 4)) == {1, 2}
    assert "evicted the losses of ev job=1" in caplog.text
    assert ledger.lost(("ev", "other", 2)) is None      # filed by "job": asked by another column it cannot tell
    ledger.forget(("ev", "job", 2))
    assert ledger.lost(("ev", "job", 2)) == set() and ledger._rows == 2

    assert ledger.lost(("ev", "job", 5)) == set()       # never lost a row: nothing lost


def test_past_the_evicted_keys_a_watermark_still_never_says_nothing_lost(monkeypatch):
    """Once even an evicted key is dropped, a scope at or below the highest dropped value cannot
    tell (it may be the dropped one); a scope above it never lost a row and says so."""
    monkeypatch.setattr(event_writer, "LEDGER_SCOPES", 1)
    monkeypatch.setattr(event_writer, "LEDGER_EVICTED", 1)
    ledger = event_writer._Ledger()
    for job in (7, 3, 9):       # 7: evicted, then its key dropped; 3: evicted (key kept); 9: its set
        ledger.note("ev", [{"job": job, "counter": 1}])
    assert ledger._evicted == {("ev", "job", 3): None} and ledger._watermark == {("ev", "job"): 7}
    assert [ledger.lost(("ev", "job", job)) for job in (7, 3, 9)] == [None, None, {1}]
    assert ledger.lost(("ev", "job", 8)) == set()       # above the watermark: never lost a row
    assert ledger.lost(("ev", "job", 5)) is None        # below: cannot be told from job 7 (the safe error)
    ledger.note("ev", [{"job": 3, "counter": 2}])       # an evicted scope losing more: still cannot tell
    assert ledger.lost(("ev", "job", 3)) is None and ("ev", "job", 3) not in ledger._evicted
    ledger.forget(("ev", "job", 9))                     # a final barrier: above the watermark, clean
    assert ledger.lost(("ev", "job", 9)) == set()
    ledger.note("ev", [{"job": "x", "counter": 1}, {"job": 11, "counter": 1}, {"job": 12, "counter": 1}])
    assert ledger._watermark == {("ev", "job"): event_writer._ANY}     # "x" has no order: all unknown ones
    assert ledger.lost(("ev", "job", 100)) is None
    assert len(ledger._scopes) == 1 and len(ledger._evicted) == 1      # bounded whatever happens


def test_a_scope_evicted_while_its_job_runs_keeps_its_stream_and_a_clean_job_stays_ok(db, writer, monkeypatch):
    """A followed job loses a row, then two other jobs lose rows in the same batch: its losses
    are evicted before its barrier fires.  It must not read as stored (its stream entries are
    kept, its end notes lost events); a job that lost nothing still settles ok."""
    monkeypatch.setattr(event_writer, "LEDGER_SCOPES", 2)
    monkeypatch.setattr(follower, "TRIM_EVERY", 0)
    frames = SimpleNamespace(consumed_id="")
    skip = follower._SkipStored(writer, set(), ("ev", "job", 40))
    skip.frames = frames
    _feed(skip, frames, 40, range(1, 6), bad={3})
    put_job(writer, 41, 3, bad={1: "bad"})
    put_job(writer, 42, 3, bad={2: "bad"})
    put_job(writer, 39, 3)                   # an older job that never lost a row
    skip.seal()
    assert settle(writer, 40) is False       # fires after the seal's barrier: both saw the eviction
    assert list(skip._committed) == [[]]     # nothing trimmed: entry 3-0 must stay for a replay
    assert writer.given_up(("ev", "job", 40), "counter") is None
    assert counters(db, 40) == [1, 2, 4, 5]
    assert settle(writer, 39) is True and settle(writer, 43) is True      # never lost a row: ok
    assert writer.given_up(("ev", "job", 41), "counter") == {1}           # the newer ones keep their count
    # the job's end (its final barrier) says it lost events, then the scope starts clean
    assert writer.wait_settled(("ev", "job", 40), 5, final=True) is False
    assert settle(writer, 40) is True


# -- a followed stream's trimmer -------------------------------------------------------------------
def _feed(skip: follower._SkipStored, frames: SimpleNamespace, job: int, numbers: range,
          bad: set[int] = frozenset(), event: str = "runner_on_ok") -> None:
    """Rows as the follower hands them on: each read from its own stream entry ``<n>-0``."""
    for n in numbers:
        frames.consumed_id = f"{n}-0"
        skip.put("ev", {"job": job, "counter": n, "mark": "bad" if n in bad else SECRET, "event": event})


def _trimmed(skip: follower._SkipStored, timeout: float = 5) -> list[str]:
    skip.seal()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = skip.take()
        if done:
            return done
        time.sleep(0.01)
    return []


def test_the_trimmer_keeps_the_entries_of_events_that_were_not_stored(db, writer, monkeypatch):
    monkeypatch.setattr(follower, "TRIM_EVERY", 0)
    frames = SimpleNamespace(consumed_id="")       # all _SkipStored reads of Frames
    skip = follower._SkipStored(writer, {1, 2}, ("ev", "job", 20))    # 1, 2: stored by a previous follow
    skip.frames = frames
    _feed(skip, frames, 20, range(1, 11), bad={5, 8})
    _feed(skip, frames, 20, range(11, 12), event="playbook_on_stats")
    done = _trimmed(skip)
    assert sorted(done, key=lambda e: int(e.split("-")[0])) == [f"{n}-0" for n in (1, 2, 3, 4, 6, 7, 9, 10)]
    assert counters(db, 20) == [3, 4, 6, 7, 9, 10, 11]
    # the next window stores everything: all its entries go, though the job lost events before
    _feed(skip, frames, 20, range(12, 16))
    assert sorted(_trimmed(skip)) == [f"{n}-0" for n in range(12, 16)]


def test_the_trimmer_trims_everything_stored_when_nothing_failed(db, writer, monkeypatch):
    monkeypatch.setattr(follower, "TRIM_EVERY", 0)
    frames = SimpleNamespace(consumed_id="")
    skip = follower._SkipStored(writer, set(), ("ev", "job", 21))
    skip.frames = frames
    _feed(skip, frames, 21, range(1, 51))
    assert sorted(_trimmed(skip), key=lambda e: int(e.split("-")[0])) == [f"{n}-0" for n in range(1, 51)]
    assert counters(db, 21) == list(range(1, 51))
