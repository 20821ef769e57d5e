"""Screenshots of the web UI's main pages for the README, taken in real Chromium.

    .venv/bin/python -m tests.ui.screenshots [--out docs/screenshots] [--only dashboard,job]

Starts a controller on 127.0.0.1 (a fresh data dir with the demo content, as the browser tests
do), gives it something to show (jobs that passed and failed, a schedule, a pending approval, a
team holding a role), then saves each page at 1280×800 as ``<out>/<name>.png``.  The PNGs are
made small with ``pngquant`` and ``optipng`` when those are installed (Debian packages of the same
names); without them the files are written as Chromium saved them.  A page the controller does not
serve (yet) is reported and skipped, so the script never writes a picture of an error.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from tests.conftest import start_controller
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, log_in
from tests.ui.helpers import FAIL_ONE_PLAYBOOK, make_jt, ok, one, wait_job

WIDTH, HEIGHT = 1280, 800


def seed(api, data_dir: Path) -> dict[str, int]:
    """Content worth a picture; returns the ids the page paths need."""
    jt = one(api, "/api/v2/job_templates/?name=Demo+Job+Template")
    org = one(api, "/api/v2/organizations/?name=Default")
    failing = make_jt(api, data_dir, FAIL_ONE_PLAYBOOK, ("ui-good", "ui-bad"))
    jobs = [ok(api.post(f"/api/v2/job_templates/{t}/launch/", {}))["id"] for t in (failing["id"], jt["id"])]
    for job in jobs:
        wait_job(api, job, timeout=180)
    ok(api.post(f"/api/v2/job_templates/{jt['id']}/schedules/",
                {"name": "Nightly", "rrule": "DTSTART;TZID=Europe/Paris:20300101T020000 RRULE:FREQ=DAILY;INTERVAL=1"}))
    team = ok(api.post("/api/v2/teams/", {"name": "Operators", "organization": org["id"]}))
    ok(api.post(f"/api/v2/teams/{team['id']}/roles/",
                {"id": jt["summary_fields"]["object_roles"]["execute_role"]["id"]}))
    wfjt = ok(api.post("/api/v2/workflow_job_templates/", {"name": "Release", "organization": org["id"]}))
    first = ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/",
                        {"unified_job_template": jt["id"]}))
    gate = ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/workflow_nodes/", {}))
    ok(api.post(f"/api/v2/workflow_job_template_nodes/{gate['id']}/create_approval_template/",
                {"name": "Go live?", "timeout": 0}))
    ok(api.post(f"/api/v2/workflow_job_template_nodes/{first['id']}/success_nodes/", {"id": gate["id"]}))
    wj = ok(api.post(f"/api/v2/workflow_job_templates/{wfjt['id']}/launch/", {}))
    inv = one(api, "/api/v2/inventories/?name=Demo+Inventory")
    host = one(api, f"/api/v2/inventories/{inv['id']}/hosts/?name=localhost")
    ssh = one(api, "/api/v2/credential_types/?namespace=ssh")
    return {"jt": jt["id"], "job": jobs[-1], "failed_job": jobs[0], "inv": inv["id"], "host": host["id"],
            "ssh": ssh["id"], "wj": wj["id"], "team": team["id"],
            "project": one(api, "/api/v2/projects/?name=Demo+Project")["id"]}


# name -> the page's path from the seeded ids; the order is the README's
PAGES: list[tuple[str, Callable[[dict[str, int]], str]]] = [
    ("dashboard", lambda ids: "/ui/"),
    ("template", lambda ids: f"/ui/templates/{ids['jt']}"),
    ("template-edit", lambda ids: f"/ui/templates/{ids['jt']}/edit"),
    ("survey-editor", lambda ids: f"/ui/templates/{ids['jt']}/survey"),
    ("launch", lambda ids: f"/ui/templates/{ids['jt']}/launch"),
    ("job", lambda ids: f"/ui/jobs/{ids['job']}"),
    ("jobs", lambda ids: "/ui/jobs"),
    ("schedule-new", lambda ids: f"/ui/schedules/new?unified_job_template={ids['jt']}"),
    ("access", lambda ids: f"/ui/templates/{ids['jt']}/access"),
    ("inventory", lambda ids: f"/ui/inventories/{ids['inv']}"),
    ("host", lambda ids: f"/ui/hosts/{ids['host']}"),
    ("project", lambda ids: f"/ui/projects/{ids['project']}"),
    ("credential-new", lambda ids: f"/ui/credentials/new?credential_type={ids['ssh']}"),
    ("approvals", lambda ids: "/ui/approvals"),
    ("workflow-job", lambda ids: f"/ui/workflow_jobs/{ids['wj']}"),
    ("settings", lambda ids: "/ui/settings/ui"),          # custom logo and login text
]

def _schedule_preview(page) -> None:
    """Fill in a cron rule and show its next 10 runs (what the form is for)."""
    page.fill("#f-name", "Weekday mornings")
    page.fill("#f-cron", "0 3 * * 1-5")
    page.fill("#f-timezone", "Europe/Paris")
    page.locator("[data-action=preview]").click()
    page.locator("#schedule-preview li").nth(9).wait_for()
    page.locator("#schedule-preview").evaluate("e => e.closest('section').scrollIntoView({block: 'end'})")
    page.evaluate("() => window.scrollBy(0, 60)")


def _host_history(page) -> None:
    if page.locator("#host-history").count():
        page.locator("#host-history").scroll_into_view_if_needed()


# what a page needs before its picture (default: nothing)
PREPARE: dict[str, Callable] = {"schedule-new": _schedule_preview, "host": _host_history}

# the pages a phone is used for (issue 19: dashboard, job, approvals), at 390×844
PHONE = (390, 844)
PHONE_PAGES: list[tuple[str, Callable[[dict[str, int]], str]]] = [
    ("phone-dashboard", lambda ids: "/ui/"),
    ("phone-job", lambda ids: f"/ui/jobs/{ids['job']}"),
    ("phone-approvals", lambda ids: "/ui/approvals"),
]


def shrink(path: Path) -> None:
    """Make a PNG small: 256 colours (pngquant) then lossless recompression (optipng)."""
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality", "70-95", "--speed", "1",
                        "--output", str(path), str(path)], check=False, capture_output=True)
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", "-strip", "all", str(path)], check=False, capture_output=True)


def take(base_url: str, username: str, password: str, ids: dict[str, int], out: Path,
         only: set[str] | None) -> list[str]:
    """Visit each page and save it; returns the names written."""
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for (width, height), pages in (((WIDTH, HEIGHT), PAGES), (PHONE, PHONE_PAGES)):
            context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
            page = context.new_page()
            log_in(page, username, password)
            for name, path_of in pages:
                if only and name not in only:
                    continue
                if shoot(page, path_of(ids), out / f"{name}.png", PREPARE.get(name)):
                    written.append(name)
            context.close()
        browser.close()
    return written


def shoot(page, path: str, target: Path, prepare: Callable | None = None) -> bool:
    """Save what the viewport shows of ``path`` (not the whole page: a screen's worth), after
    ``prepare(page)``; False when the page is not served."""
    resp = page.goto(path)
    if resp is None or resp.status != 200:
        print(f"skipped {target.stem}: {path} answered {resp.status if resp else 'nothing'}", file=sys.stderr)
        return False
    page.wait_for_load_state("networkidle")
    if prepare:
        prepare(page)
    page.screenshot(path=str(target))
    shrink(target)
    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target} {target.stat().st_size // 1024} KiB")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", help="comma-separated page names (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="turret-shots-") as work:
        live = start_controller(Path(work))
        try:
            api = live.client()
            ids = seed(api, live.data_dir)
            written = take(live.url, live.admin_username, live.admin_password, ids, args.out,
                           set(args.only.split(",")) if args.only else None)
            api.close()
        finally:
            live.stop()
    print(f"{len(written)} screenshots in {args.out}")
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main())
