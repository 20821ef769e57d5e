"""A 10,000-host inventory in the browser: every page stays one page of the API's list."""
from __future__ import annotations

import time
from pathlib import Path

from .helpers import ok, one

FINISHED = ("successful", "failed", "error", "canceled")


def test_ten_thousand_hosts_stay_paginated(new_page, api, controller):
    org = one(api, "/api/v2/organizations/?name=Default")
    folder = Path(controller.data_dir) / "projects" / "ui-big"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "big.ini").write_text("[web]\nnode-[00000:09999]\n")
    project = ok(api.post("/api/v2/projects/", {"name": "ui-big", "organization": org["id"], "local_path": "ui-big"}))
    inv = ok(api.post("/api/v2/inventories/", {"name": "ui-big-inv", "organization": org["id"]}))
    source = ok(api.post("/api/v2/inventory_sources/", {"name": "ui-big-src", "inventory": inv["id"], "source": "scm",
                                                        "source_project": project["id"], "source_path": "big.ini"}))
    update = ok(api.post(f"/api/v2/inventory_sources/{source['id']}/update/", {}), 202)
    deadline = time.monotonic() + 180
    while ok(api.get(f"/api/v2/inventory_updates/{update['inventory_update']}/"))["status"] not in FINISHED:
        assert time.monotonic() < deadline, "the 10,000-host import did not finish"
        time.sleep(0.5)
    assert ok(api.get(f"/api/v2/inventories/{inv['id']}/"))["total_hosts"] == 10000

    page = new_page()
    started = time.monotonic()
    page.goto(f"/ui/inventories/{inv['id']}")
    assert time.monotonic() - started < 10
    assert page.locator("table tbody tr").count() == 25
    assert "Page 1 of 400 (10000 items)" in page.locator(".pager").inner_text()
    page.goto(f"/ui/inventories/{inv['id']}?page=400")
    assert page.locator("table tbody tr").count() == 25
    assert page.locator("table tbody tr").last.inner_text().startswith("node-09999")
    page.get_by_label("Search hosts").fill("node-0424")
    page.get_by_role("button", name="Search").click()
    assert "(10 items)" in page.locator(".pager").inner_text()
    page.goto("/ui/")
    assert "10001" in page.locator(".tiles").inner_text()          # hosts of every inventory
