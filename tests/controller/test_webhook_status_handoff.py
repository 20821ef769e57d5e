"""The hand-off of webhook status post-backs to the job process (session 25, E4), in process: a
process without the job stack (a web worker of ``turret serve``: its ``dispatcher`` is a
``WakeSender``) only records the change in the outbox and wakes the job process with a
datagram; whichever poster later runs on the database sends it, once; and the outbox's claims
keep one job's posts in order whichever poster claims them."""
from __future__ import annotations

import os
import threading
import time

import pytest

from controller.jobs.wake import WakeListener, WakeSender, wake_address
from controller.store import webhook_status as q
from controller.webhooks import status
from test_webhook_status import CRED_TYPES, PLAYBOOKS, TOKENS, deliver, gitlab_merge_request, webhook_template
from tests.support.jobs import make_credential, make_stage, type_id, wait_until
from tests.support.receivers import Answer, HttpSink


class _Woken:
    """Stands in for the job process: records which wake each datagram asked for."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.event = threading.Event()

    def notify(self) -> None:
        self.calls.append("notify")

    def cancel(self, resource: str, pk: int) -> None:
        self.calls.append("cancel")

    def notifications(self) -> None:
        self.calls.append("notifications")

    def webhook_status(self) -> None:
        self.calls.append("webhook_status")
        self.event.set()


def _rows(store, job: int) -> list[dict]:
    return store.dicts("SELECT status, claimed_by, done_at FROM webhook_status_posts "
                       "WHERE kind = 'job' AND job = ? ORDER BY id", (job,))


def _poster_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("turret-webhook-status")]


def test_a_web_worker_records_and_wakes_and_the_job_process_posts(admin, anon, app_state, tmp_path):
    stage = make_stage(admin, app_state.settings.data_dir, PLAYBOOKS)
    scene = {**stage, "creds": {"gitlab": make_credential(admin, stage["org"], type_id(admin, CRED_TYPES["gitlab"]),
                                                          {"token": TOKENS["gitlab"]})}}
    woken = _Woken()
    listener = WakeListener(wake_address(tmp_path), woken, notifications=woken.notifications,
                            webhook_status=woken.webhook_status)
    listener.start()
    app_state.dispatcher = WakeSender(listener.address)     # this process plays a web worker
    poster = None
    try:
        with HttpSink(Answer(status=201, json={"id": 1})) as sink:
            jt, key = webhook_template(admin, scene, "gitlab")
            job = deliver(anon, "job_templates", jt["id"], "gitlab", key, gitlab_merge_request(sink.url))["job"]
            assert woken.event.wait(5)
            time.sleep(1.2)     # more than a poster's poll, were one running here
            assert woken.calls.count("webhook_status") == 1
            assert [(r["status"], r["claimed_by"], r["done_at"]) for r in _rows(app_state.store, job)] == [
                ("pending", None, None)]                  # recorded with the job, for the job process
            assert sink.requests == [] and _poster_threads() == []   # no network, no status thread here
            # the job process (here: a poster started later on the same database) sends it, once
            poster = status.Poster(app_state)
            poster.start()
            wait_until(lambda: sink.requests, 10, "the creation post")
            wait_until(lambda: status.settled(app_state.store, "job", job), 10, "the post to be done")
            time.sleep(1.2)
            assert [(r.path, r.json()["state"], r.headers["private-token"]) for r in sink.requests] == [
                (f"/api/v4/projects/42/statuses/{gitlab_merge_request('')['object_attributes']['last_commit']['id']}",
                 "pending", TOKENS["gitlab"])]
            [row] = _rows(app_state.store, job)
            assert row["claimed_by"].split(":")[1] == str(os.getpid()) and row["done_at"] is not None
    finally:
        if poster is not None:
            poster.stop()
        app_state.dispatcher.close()
        app_state.dispatcher = None
        listener.stop()
    assert _poster_threads() == []


@pytest.fixture
def outbox(app_state):
    """The module's outbox, emptied before and after the test (no poster runs on it)."""
    with app_state.store.transaction():
        app_state.store.execute("DELETE FROM webhook_status_posts")
    yield app_state.store
    with app_state.store.transaction():
        app_state.store.execute("DELETE FROM webhook_status_posts")


def test_claims_keep_one_job_s_posts_in_order_whoever_claims(outbox):
    now = time.time()
    with outbox.transaction():
        for job, changes in ((900001, ("pending", "running", "successful")), (900002, ("pending", "failed"))):
            for change in changes:
                assert q.record(outbox, "job", job, change, now)
        assert not q.record(outbox, "job", 900001, "pending", now)    # announced twice: recorded once
    a = q.claim_next(outbox, "host:1:a", now, 10)
    # one post per job at a time: the first of each, oldest first
    assert [(r["job"], r["status"]) for r in a] == [(900001, "pending"), (900002, "pending")]
    assert q.claim_next(outbox, "host:2:b", now, 10) == []     # another poster waits behind them
    q.conclude(outbox, a[1]["id"], "host:2:b", now)             # not its claim: no effect
    assert q.claim_next(outbox, "host:2:b", now, 10) == []
    q.conclude(outbox, a[1]["id"], "host:1:a", now)
    assert [(r["job"], r["status"]) for r in q.claim_next(outbox, "host:2:b", now, 10)] == [(900002, "failed")]
    q.conclude(outbox, a[0]["id"], "host:1:a", now)
    b = q.claim_next(outbox, "host:2:b", now, 1)
    assert [(r["job"], r["status"]) for r in b] == [(900001, "running")]
    # a poster that died mid-send: its claim is given up unsent after a while, the job goes on
    assert q.give_up_stale(outbox, now + 1, now - 3600, now + 2) == 2     # b's and 900002's claims
    assert [(r["job"], r["status"]) for r in q.claim_next(outbox, "host:1:a", now, 10)] == [
        (900001, "successful")]
    assert q.unsettled(outbox, "job", 900001) == 1 and q.unsettled(outbox, "job", 900002) == 0
