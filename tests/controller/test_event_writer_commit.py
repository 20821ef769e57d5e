"""``Store.transaction`` when the COMMIT fails or SQLite has rolled back by itself: the original
error is raised, the connection is left outside any transaction (the thread's next transaction
works), and the event writer, which relies on it, still tells a refused row from a full
database.  A real SQLite file: a deferred foreign key fails only at COMMIT; a ``max_page_count``
makes the database full, after which SQLite rolls the transaction back itself."""
from __future__ import annotations

import logging
import sqlite3
import threading

import pytest

from controller.jobs import event_writer
from controller.jobs.event_writer import EventWriter
from controller.store import Store
from tests.support.event_writers import batching_writer


@pytest.fixture()
def db(tmp_path):
    """A store with a ``child`` table whose foreign key to ``parent`` is checked at COMMIT."""
    store = Store(str(tmp_path / "commit.db"))
    store.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    store.execute("CREATE TABLE child (job INTEGER, counter INTEGER, parent INTEGER "
                  "REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED, blob BLOB)")
    store.execute("INSERT INTO parent (id) VALUES (1)")
    yield store
    store.close()


def children(store: Store) -> list[tuple]:
    return [tuple(r) for r in store.query("SELECT job, counter, parent FROM child ORDER BY job, counter")]


def in_thread(work) -> object:
    """``work()`` on a thread of its own (its own connection), its result or its exception."""
    out: list = []

    def run() -> None:
        try:
            out.append(work())
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            out.append(exc)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return out[0]


def test_a_commit_that_fails_raises_its_error_and_leaves_the_connection_usable(db):
    db.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY constraint failed"):
        with db.transaction():
            db.execute("INSERT INTO child (job, counter, parent) VALUES (1, 1, 1)")
            db.execute("INSERT INTO child (job, counter, parent) VALUES (1, 2, 99)")   # no parent 99
    assert not db.conn.in_transaction
    with db.transaction():           # the same thread begins anew
        db.execute("INSERT INTO child (job, counter, parent) VALUES (2, 1, 1)")
    assert children(db) == [(2, 1, 1)]          # the failed transaction left nothing behind
    # another thread sees the committed row and can write too: no lock was left held
    assert in_thread(lambda: db.execute("INSERT INTO child (job, counter, parent) VALUES (3, 1, 1)")) is not None
    assert children(db) == [(2, 1, 1), (3, 1, 1)]


def _fill_up(store: Store) -> None:
    """This connection may grow the file by a few pages only (a real SQLITE_FULL past them)."""
    pages = store.scalar("PRAGMA page_count")
    store.execute(f"PRAGMA max_page_count={pages + 4}")


def test_an_error_after_which_sqlite_rolled_back_itself_is_raised_as_it_was(db):
    _fill_up(db)
    with pytest.raises(sqlite3.OperationalError, match="full") as raised:
        with db.transaction():
            db.execute("INSERT INTO child (job, counter, parent) VALUES (1, 1, 1)")
            db.execute("INSERT INTO child (job, counter, blob) VALUES (1, 2, zeroblob(100000))")
    assert raised.value.sqlite_errorcode == sqlite3.SQLITE_FULL     # not "no transaction is active"
    assert not db.conn.in_transaction
    with db.transaction():
        db.execute("INSERT INTO child (job, counter, parent) VALUES (4, 1, 1)")
    assert children(db) == [(4, 1, 1)]


def test_an_error_in_the_body_still_rolls_back(db):
    with pytest.raises(ZeroDivisionError):
        with db.transaction():
            db.execute("INSERT INTO child (job, counter, parent) VALUES (5, 1, 1)")
            with db.transaction():        # a nested one joins the outer: both undone
                db.execute("INSERT INTO child (job, counter, parent) VALUES (5, 2, 1)")
            _ = 1 / 0
    assert children(db) == [] and not db.conn.in_transaction


# -- the event writer over it -----------------------------------------------------------------------
@pytest.fixture()
def writer(db):
    with batching_writer(db) as w:
        yield w


def in_writer(writer: EventWriter, work) -> None:
    """Run ``work()`` in the writer's thread (its connection), between two batches."""
    done = threading.Event()
    writer.finish(lambda: (work(), done.set()))
    assert done.wait(5)


def settle(writer: EventWriter, job: int) -> bool:
    outcome = writer.wait_settled(("child", "job", job), 10)
    assert outcome is not None, "the barrier did not fire"
    return outcome


def test_a_row_refused_at_commit_loses_only_itself(db, writer):
    in_writer(writer, lambda: db.execute("PRAGMA foreign_keys=ON"))
    for n in range(1, 41):
        writer.put("child", {"job": 1, "counter": n, "parent": 99 if n == 17 else 1})
    assert settle(writer, 1) is False
    assert children(db) == [(1, n, 1) for n in range(1, 41) if n != 17]
    assert writer.given_up(("child", "job", 1), "counter") == {17}
    writer.put("child", {"job": 2, "counter": 1, "parent": 1})     # the writer's connection is usable
    assert settle(writer, 2) is True and children(db)[-1] == (2, 1, 1)


def test_a_full_database_is_seen_as_such_by_the_writer(db, writer, caplog, monkeypatch):
    """SQLite rolls back by itself when full: the writer still sees SQLITE_FULL (a database-wide
    error: the batch once more, then given up whole), not a failed ROLLBACK."""
    caplog.set_level(logging.INFO, logger="turret.events")
    monkeypatch.setattr(event_writer, "RETRY_PAUSE", 0.05)
    in_writer(writer, lambda: _fill_up(db))
    for n in range(1, 6):
        writer.put("child", {"job": 3, "counter": n, "parent": 1, "blob": b"x" * 30000})
    assert settle(writer, 3) is False
    assert writer.given_up(("child", "job", 3), "counter") == {1, 2, 3, 4, 5} and children(db) == []
    lines = [r.getMessage() for r in caplog.records if r.name == "turret.events"]
    assert any("gave up on 5 of 5 events of child" in line and "full" in line for line in lines), lines
    assert not any("no transaction" in line for line in lines), lines
    in_writer(writer, lambda: db.execute("PRAGMA max_page_count=1073741823"))
    writer.put("child", {"job": 4, "counter": 1, "parent": 1})
    assert settle(writer, 4) is True and children(db) == [(4, 1, 1)]
