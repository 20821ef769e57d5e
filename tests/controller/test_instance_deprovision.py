"""Removing a gone worker's instance as AWX removes an execution node:
``PATCH /api/v2/instances/N/ {"node_state": "deprovisioning"}``.

AWX 24.6.1 allows ``node_state`` to change only to ``deprovisioning`` and never for a managed
node; Turret also refuses it for a worker still registered (the fleet monitor would bring it
back).  Real parts: a Redis broker, a real ``turret worker`` process, the controller's fleet
monitor, a real SQLite store read back through the API.
"""
from __future__ import annotations

import pytest

from controller.services import instances as nodes
from controller.store import instances as instance_sql
from tests.controller.conftest import ADMIN_PASSWORD
from tests.support.jobs import wait_until
from tests.support.workers import scaleout_fixtures, start_worker, wait_registered

pytestmark = pytest.mark.slow
QUEUE = "deprov"


broker, app_state = scaleout_fixtures(ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def worker(app_state, broker, tmp_path_factory):
    """Worker ``dp-a`` serving ``deprov`` and ``default``, and the fleet monitor."""
    proc = start_worker(broker.url, "dp-a", f"{QUEUE},default", 1, tmp_path_factory.mktemp("w") / "dp-a")
    try:
        wait_registered(broker.url, proc)
        app_state.start_jobs(workers=1)
        yield proc
    finally:
        app_state.stop_jobs()
        proc.stop()


def _instance(admin, name: str) -> dict | None:
    rows = admin.get(f"/api/v2/instances/?hostname={name}").json["results"]
    return rows[0] if rows else None


def _member_names(admin, group_name: str) -> set[str]:
    group = admin.get(f"/api/v2/instance_groups/?name={group_name}").json["results"][0]
    return {i["hostname"] for i in admin.get(f"/api/v2/instance_groups/{group['id']}/instances/").json["results"]}


def test_only_a_gone_worker_is_deprovisioned_and_then_removed(admin, app_state, worker):
    live = wait_until(lambda: (lambda r: r if r and r["node_state"] == "ready" else None)(_instance(admin, "dp-a")),
                      20, "dp-a ready")
    url = f"/api/v2/instances/{live['id']}/"
    assert _member_names(admin, QUEUE) == {"dp-a"} and "dp-a" in _member_names(admin, "default")
    # a live worker: refused, nothing changed
    resp = admin.patch(url, {"node_state": "deprovisioning"})
    assert resp.status_code == 400
    assert resp.json == {"node_state": [nodes.LIVE_WORKER.format(name="dp-a")]}
    assert _instance(admin, "dp-a")["node_state"] == "ready"
    # AWX's rules: only to deprovisioning, never the managed node (this controller's own)
    resp = admin.patch(url, {"node_state": "installed"})
    assert (resp.status_code, resp.json) == (400, {"node_state": ["Can only change instances to the "
                                                                  "'deprovisioning' state."]})
    own = next(i for i in admin.get("/api/v2/instances/").json["results"] if i["managed"])
    resp = admin.patch(f"/api/v2/instances/{own['id']}/", {"node_state": "deprovisioning"})
    assert (resp.status_code, resp.json) == (400, {"node_state": ["Cannot deprovision managed nodes."]})
    assert admin.get(f"/api/v2/instances/{own['id']}/").json["node_state"] == "ready"
    # the worker goes away for good: its instance is unavailable, still listed, still a member
    worker.stop()
    gone = wait_until(lambda: (lambda r: r if r and r["node_state"] == "unavailable" else None)(
        _instance(admin, "dp-a")), 40, "dp-a unavailable")
    assert gone["id"] == live["id"] and _member_names(admin, QUEUE) == {"dp-a"}
    resp = admin.patch(url, {"node_state": "deprovisioning"})
    assert resp.status_code == 200, resp.json
    assert (resp.json["hostname"], resp.json["node_state"]) == ("dp-a", "deprovisioning")
    # removed at once, with its memberships; the other nodes stay
    assert _instance(admin, "dp-a") is None
    assert admin.get(url).status_code == 404
    assert _member_names(admin, QUEUE) == set() and "dp-a" not in _member_names(admin, "default")
    assert app_state.store.get("instances", live["id"]) is None
    assert instance_sql.instance_group_ids(app_state.store, [live["id"]]) == {live["id"]: []}
    assert admin.get(f"/api/v2/instances/{own['id']}/").json["node_state"] == "ready"
    # the fleet monitor keeps it gone (no registration), and the change is in the activity stream
    stream = admin.get("/api/v2/activity_stream/?object1=instance&operation=update").json["results"]
    assert any(e["changes"].get("node_state") == ["unavailable", "deprovisioning"] for e in stream), stream


def test_without_a_broker_a_left_over_worker_instance_can_be_removed(tmp_path):
    """A controller back in embedded mode (no broker, no fleet monitor) keeps the instance of a
    worker from its distributed days, ``ready`` as last mirrored: it can be removed, and the
    managed node still cannot."""
    from controller import open_state
    from controller.config import Settings
    from controller.services.bootstrap import initialize, system_context
    from controller.services import crud
    from controller.errors import ValidationError

    state = open_state(Settings({"DATA_DIR": str(tmp_path / "data")}, environ={}))
    try:
        initialize(state, ADMIN_PASSWORD, demo=False)
        ctx = system_context(state)
        inst = nodes.register_worker(ctx, "old-worker", {"cpu": "1", "memory": str(4 << 30), "queues": QUEUE})
        assert inst is not None and inst["node_state"] == "ready"
        res = state.registry["instance"]
        saved = crud.update(ctx, res, inst, {"node_state": "deprovisioning"}, partial=True)
        assert saved["node_state"] == "deprovisioning" and state.store.get("instances", inst["id"]) is None
        assert instance_sql.group_named(state.store, QUEUE) is not None
        assert instance_sql.instance_group_ids(state.store, [inst["id"]]) == {inst["id"]: []}
        own = next(i for i in instance_sql.all_rows(state.store, "instances") if i["managed"])
        with pytest.raises(ValidationError) as refused:
            crud.update(ctx, res, own, {"node_state": "deprovisioning"}, partial=True)
        assert refused.value.body == {"node_state": ["Cannot deprovision managed nodes."]}
    finally:
        state.store.close()
