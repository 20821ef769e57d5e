"""Jobs (AWX §6.13) run for real by ansible-runner against local-connection hosts: the status
lifecycle, job events and their line tiling, stdout in every format, host summaries,
artifacts, cancel / timeout (and that nothing of the job survives them), relaunch, the
allow_simultaneous and capacity rules of the dispatcher, deletion, and that no secret given
to a job shows up anywhere: API, activity stream or any file of the data dir."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from controller import create_app, open_state
from controller.config import Settings
from controller.services.bootstrap import initialize
from tests.support.jobs import (
    FINISHED, LOCAL, all_pages, attach_credential, awx_stdout, events, files_containing, job_processes, launch,
    make_credential, make_inventory, make_jt, make_org, make_project, processes_left, set_survey, strip_ansi,
    type_id, uniq, wait_job, wait_status,
)

from conftest import Client  # tests/controller/conftest.py (rootdir-less import)

RECAP = """- name: Recap play
  hosts: all
  gather_facts: false
  tasks:
    - name: greet
      debug: msg="hello {{ inventory_hostname }}"
    - name: change
      command: echo changed
      changed_when: inventory_hostname == 'h1'
    - name: only on h2
      debug: msg=only-h2
      when: inventory_hostname == 'h2'
    - name: long output
      debug: msg="{{ 'x' * 1500 }}"
      when: inventory_hostname == 'h1'
    - name: record
      run_once: true
      set_stats:
        data:
          build: 42
          tag: release
    - name: break h2
      fail: msg="h2 is broken"
      when: inventory_hostname == 'h2'
"""
HELLO = """- hosts: all
  gather_facts: false
  tasks:
    - name: hello
      debug: msg=hello
"""
SLEEP = """- hosts: all
  gather_facts: false
  tasks:
    - name: before
      debug: msg=starting
    - name: nap
      command: sleep {{ nap | default(30) }}
"""
CANARY_PLAY = """- hosts: all
  gather_facts: false
  tasks:
    - name: leak
      debug:
        msg: "env={{ lookup('env', 'CANARY_TOKEN') }} survey={{ secret }}"
    - name: leak in a command
      command: "echo {{ secret }} {{ lookup('env', 'CANARY_TOKEN') }}"
    - name: leak to stats
      set_stats:
        data:
          leaked: "{{ secret }}-{{ lookup('env', 'CANARY_TOKEN') }}"
"""
PLAYBOOKS = {"recap.yml": RECAP, "hello.yml": HELLO, "sleep.yml": SLEEP, "canary.yml": CANARY_PLAY}
DISPLAY = {"playbook_on_start": ("Playbook Started", 0), "playbook_on_play_start": ("Play Started (Recap play)", 1),
           "playbook_on_stats": ("Playbook Complete", 1), "runner_on_ok": ("Host OK", 3),
           "runner_on_failed": ("Host Failed", 3), "runner_on_skipped": ("Host Skipped", 3),
           "runner_on_start": ("Host Started", 3)}
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
RECAP_LINE = re.compile(r"^(\S+)\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+"
                        r"skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)", re.M)


JOB_WORKERS = 4   # the module's dispatcher (conftest ``jobs``)


@pytest.fixture(scope="module")
def data_dir(app_state) -> Path:
    return Path(app_state.settings.data_dir)


@pytest.fixture(scope="module")
def org(admin):
    return make_org(admin)


@pytest.fixture(scope="module")
def project(admin, data_dir, org):
    return make_project(admin, data_dir, org, PLAYBOOKS)


@pytest.fixture(scope="module")
def inv(admin, org):
    return make_inventory(admin, org, ["h1", "h2"])


@pytest.fixture(scope="module")
def inv1(admin, org):
    return make_inventory(admin, org, ["solo"])


def parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def txt(admin, job_id: int) -> str:
    return admin.get(f"/api/v2/jobs/{job_id}/stdout/?format=txt_download").data.decode()


def summaries(admin, job_id: int) -> list[dict]:
    return all_pages(admin, f"/api/v2/jobs/{job_id}/job_host_summaries/")


# -- one real run, watched from launch to the last stored event -----------------------------------
@pytest.fixture(scope="module")
def recap_jt(admin, project, inv):
    return make_jt(admin, project, inv, "recap.yml", forks=1, allow_simultaneous=True)


@pytest.fixture(scope="module")
def recap_job(admin, jobs, recap_jt):
    """The job of recap.yml on h1/h2 (h2 fails), polled while it runs: ``event_processing_finished``
    must stay false while the job is active, and once true every event must be listed."""
    body = launch(admin, recap_jt)
    job_id = body["id"]
    seen, processed_check = [], None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = admin.get(f"/api/v2/jobs/{job_id}/").json
        seen.append((job["status"], job["event_processing_finished"]))
        if job["event_processing_finished"]:
            last = admin.get(f"/api/v2/jobs/{job_id}/job_events/?order_by=-counter&page_size=1").json
            processed_check = (job["status"], last["count"], last["results"][0]["counter"] if last["results"] else 0)
            break
        time.sleep(0.05)
    return {"id": job_id, "launch": body, "seen": seen, "processed_check": processed_check,
            "job": wait_job(admin, job_id)}


def test_status_moves_forward_through_the_lifecycle(recap_job):
    order = ["new", "pending", "waiting", "running", "successful", "failed", "error", "canceled"]
    assert recap_job["launch"]["status"] in ("pending", "waiting", "running")
    statuses = [recap_job["launch"]["status"]] + [status for status, _ in recap_job["seen"]]
    steps = [min(order.index(s), 4) for s in statuses]
    assert steps == sorted(steps), statuses
    assert statuses[-1] == "failed" and "running" in statuses


def test_event_processing_finished_only_after_the_end(recap_job):
    seen = recap_job["seen"]
    assert ("running", False) in seen
    assert all(not processed for status, processed in seen if status not in FINISHED)
    status, count, last_counter = recap_job["processed_check"]
    assert status == "failed"
    assert count == last_counter and count > 10


def test_failing_task_fails_the_job(admin, recap_job, recap_jt, inv):
    job = recap_job["job"]
    assert job["status"] == "failed" and job["failed"] is True
    assert job["started"] and job["finished"] and parse_time(job["finished"]) >= parse_time(job["started"])
    assert 0 < job["elapsed"] < 60
    for stamp in (job["created"], job["modified"], job["started"], job["finished"]):
        assert STAMP.match(stamp), stamp
    assert job["job_template"] == recap_jt["id"] and job["inventory"] == inv["id"]
    assert job["launch_type"] == "manual" and job["job_explanation"] == ""
    assert json.loads(job["job_args"])[0] == "ansible-playbook"
    assert job["job_env"]["JOB_ID"] == str(job["id"])
    assert job["artifacts"] == {"build": 42, "tag": "release"}
    assert job["playbook_counts"] == {"play_count": 1, "task_count": 6}
    template = admin.get(recap_jt["url"]).json
    assert template["last_job_failed"] is True and template["status"] == "failed"
    assert template["summary_fields"]["last_job"]["id"] == job["id"]


def test_job_list_uses_the_list_serializer(admin, recap_job):
    listed = admin.get(f"/api/v2/jobs/?id={recap_job['id']}").json["results"][0]
    for hidden in ("job_args", "job_cwd", "job_env", "result_traceback", "event_processing_finished"):
        assert hidden not in listed, hidden
    assert listed["status"] == "failed"


def test_event_sequence_and_fields(admin, recap_job, inv):
    job_id = recap_job["id"]
    rows = events(admin, job_id)
    kinds = [e["event"] for e in rows]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"
    assert kinds.count("playbook_on_play_start") == 1 and kinds.count("playbook_on_task_start") == 6
    assert [e["counter"] for e in rows] == list(range(1, len(rows) + 1))
    uuids = {e["uuid"] for e in rows}
    assert len(uuids) == len(rows) and "" not in uuids
    by_uuid = {e["uuid"]: e for e in rows}
    for e in rows:
        assert e["type"] == "job_event" and e["job"] == job_id and e["url"] == f"/api/v2/job_events/{e['id']}/"
        assert e["playbook"] == "recap.yml"
        if e["event"] in DISPLAY:
            assert (e["event_display"], e["event_level"]) == DISPLAY[e["event"]], e["event"]
        if e["event"].startswith("runner_on_"):
            assert e["host_name"] in ("h1", "h2") and e["host"] == inv["_hosts"][e["host_name"]]
            assert by_uuid[e["parent_uuid"]]["event"] == "playbook_on_task_start"
            assert e["task"] == by_uuid[e["parent_uuid"]]["task"] and e["play"] == "Recap play"
        else:
            assert e["host"] is None and e["host_name"] == ""
        if e["event"] == "playbook_on_task_start":
            assert e["event_display"] == f"Task Started ({e['task']})" and e["event_level"] == 2
            assert by_uuid[e["parent_uuid"]]["event"] == "playbook_on_play_start"
        if e["event"] == "playbook_on_play_start":
            assert e["play"] == "Recap play" and by_uuid[e["parent_uuid"]]["event"] == "playbook_on_start"
    task_of = {(e["event"], e["host_name"], e["task"]): e for e in rows}
    assert task_of[("runner_on_ok", "h1", "change")]["changed"] is True
    assert task_of[("runner_on_ok", "h2", "change")]["changed"] is False
    assert task_of[("runner_on_ok", "h1", "change")]["event_data"]["res"]["changed"] is True
    assert task_of[("runner_on_skipped", "h1", "only on h2")]["failed"] is False
    failed = task_of[("runner_on_failed", "h2", "break h2")]
    assert failed["failed"] is True and failed["event_display"] == "Host Failed"
    assert "h2 is broken" in failed["stdout"]
    assert [e for e in rows if e["failed"] and e["event"].startswith("runner_")] == [failed]
    stats = rows[-1]
    assert stats["failed"] is True and stats["changed"] is True
    assert stats["event_data"]["failures"] == {"h2": 1}
    # after the stats, parents of failed / changed host events are flagged as well (AWX)
    assert task_of[("playbook_on_task_start", "", "break h2")]["failed"] is True
    assert task_of[("playbook_on_task_start", "", "change")]["changed"] is True
    assert task_of[("playbook_on_task_start", "", "greet")]["failed"] is False


def test_event_timestamps_are_awx_datetimes(admin, recap_job):
    for e in events(admin, recap_job["id"]):
        assert STAMP.match(e["created"]) and STAMP.match(e["modified"]), (e["event"], e["created"], e["modified"])


def test_event_detail_and_children(admin, recap_job):
    rows = events(admin, recap_job["id"])
    host_event = next(e for e in rows if e["event"] == "runner_on_ok")
    detail = admin.get(host_event["url"])
    assert detail.status_code == 200 and detail.json["stdout"] == host_event["stdout"]
    assert detail.json["related"]["job"] == f"/api/v2/jobs/{recap_job['id']}/"
    task = next(e for e in rows if e["event"] == "playbook_on_task_start")
    resp = admin.get(f"/api/v2/job_events/{task['id']}/children/")
    assert resp.status_code == 200, resp.json
    children = resp.json["results"]
    assert children and {c["parent_uuid"] for c in children} == {task["uuid"]}
    assert {c["id"] for c in children} == {e["id"] for e in rows if e["parent_uuid"] == task["uuid"]}


def test_event_related_links(admin, recap_job):
    host_event = next(e for e in events(admin, recap_job["id"]) if e["event"] == "runner_on_ok")
    related = admin.get(host_event["url"]).json["related"]
    assert related.get("host") == f"/api/v2/hosts/{host_event['host']}/"
    assert related.get("children") == f"/api/v2/job_events/{host_event['id']}/children/"


def test_event_summary_fields(admin, recap_job, recap_jt):
    host_event = next(e for e in events(admin, recap_job["id"]) if e["event"] == "runner_on_ok")
    summary = admin.get(host_event["url"]).json["summary_fields"]
    assert summary.get("host") == {"id": host_event["host"], "name": host_event["host_name"], "description": ""}
    job = summary["job"]
    assert job["id"] == recap_job["id"] and job.get("status") == "failed" and job.get("failed") is True
    assert job.get("type") == "job" and job.get("job_template_id") == recap_jt["id"]
    assert job.get("job_template_name") == recap_jt["name"]


def test_event_list_announces_the_ui_event_limit(admin, recap_job):
    listing = admin.get(f"/api/v2/jobs/{recap_job['id']}/job_events/")
    assert listing.status_code == 200 and listing.headers.get("X-UI-Max-Events")


def test_events_tile_the_stdout_from_line_zero(admin, recap_job):
    rows = events(admin, recap_job["id"])
    line = 0
    for e in rows:
        assert e["start_line"] == line, e
        lines = e["stdout"].replace("\r\n", "\n").count("\n") + 1 if e["stdout"] else 0
        if e["event"] == "playbook_on_stats":
            # runner counts the blank line ansible prints after the recap, which the event's
            # stdout (and so AWX's stdout) does not carry
            assert e["end_line"] - e["start_line"] in (lines, lines + 1), e
        else:
            assert e["end_line"] - e["start_line"] == lines, (e["event"], e["stdout"])
        line = e["end_line"]
    assert line - 1 <= awx_stdout(rows).count("\n") <= line


def test_events_as_the_cli_polls_them(admin, recap_job):
    job_id = recap_job["id"]
    rows = events(admin, job_id)
    k = rows[len(rows) // 2]["start_line"]
    polled = events(admin, job_id, f"order_by=start_line&no_truncate=True&start_line__gte={k}")
    assert polled == [e for e in rows if e["start_line"] >= k]
    assert polled and polled[0]["start_line"] == k and polled[-1]["event"] == "playbook_on_stats"
    beyond = admin.get(f"/api/v2/jobs/{job_id}/job_events/?order_by=start_line&no_truncate=True"
                       f"&start_line__gte={rows[-1]['end_line'] + 1}").json
    assert beyond["count"] == 0 and beyond["results"] == []


def test_event_stdout_is_truncated_in_lists_unless_asked(admin, recap_job):
    job_id = recap_job["id"]
    untruncated = {e["id"]: e for e in events(admin, job_id)}
    truncated = {e["id"]: e for e in all_pages(admin, f"/api/v2/jobs/{job_id}/job_events/")}
    full = next(e for e in untruncated.values() if e["task"] == "long output" and e["event"] == "runner_on_ok")
    assert len(full["stdout"]) > 1500
    assert admin.get(full["url"]).json["stdout"] == full["stdout"]      # details are never truncated
    for pk, e in untruncated.items():       # playbook_on_* events and short ones come whole
        if e["event"].startswith("playbook_on") or len(e["stdout"]) <= 1024:
            assert truncated[pk]["stdout"] == e["stdout"], e["event"]
    # AWX truncate_stdout: 1023 characters, an ellipsis, then a reset for each colour left open
    listed = truncated[full["id"]]["stdout"]
    head = full["stdout"][:1023] + "\u2026"
    assert listed.startswith(head) and len(listed) < len(full["stdout"])
    assert set(listed[len(head):].split("\x1b[0m")) <= {""}


def test_stdout_is_what_ansible_playbook_prints(admin, recap_job, project, tmp_path):
    """The same playbook run by ansible-playbook itself on the same hosts prints the same lines."""
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"h1": LOCAL, "h2": LOCAL}}}))
    venv_bin = os.path.dirname(sys.executable)
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "ANSIBLE_HOME": str(tmp_path / "home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
           "ANSIBLE_DEPRECATION_WARNINGS": "False"}
    direct = subprocess.run([os.path.join(venv_bin, "ansible-playbook"), "-i", str(inventory), "-f", "1",
                             "recap.yml"], cwd=project["_folder"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    assert direct.returncode == 2, direct.stdout
    ours = [line.rstrip() for line in strip_ansi(txt(admin, recap_job["id"])).splitlines()]
    theirs = [line.rstrip() for line in strip_ansi(direct.stdout).splitlines()]
    while theirs and not theirs[-1]:      # the blank line after the recap is in no event's stdout
        theirs.pop()
    assert len(ours) > 40 and ours == theirs


def test_stdout_formats(admin, recap_job):
    job_id = recap_job["id"]
    rows = events(admin, job_id)
    raw = awx_stdout(rows)
    total = raw.count("\n")
    plain = strip_ansi(raw)
    url = f"/api/v2/jobs/{job_id}/stdout/"

    resp = admin.get(f"{url}?format=txt")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert resp.data.decode() == plain and "\x1b[" not in plain
    assert "PLAY [Recap play]" in plain and "PLAY RECAP" in plain

    resp = admin.get(f"{url}?format=ansi")
    assert resp.mimetype == "text/plain" and "\x1b[" in resp.data.decode()
    assert resp.data.decode() == raw

    resp = admin.get(f"{url}?format=txt_download")
    assert resp.headers["Content-Disposition"] == f'attachment; filename="job_{job_id}.txt"'
    assert resp.mimetype == "text/plain" and resp.data.decode() == plain

    resp = admin.get(f"{url}?format=ansi_download")
    assert resp.headers["Content-Disposition"] == f'attachment; filename="job_{job_id}.ansi.txt"'
    assert resp.data.decode() == raw

    whole = admin.get(f"{url}?format=json").json
    assert (whole["range"]["start"], whole["range"]["end"]) == (0, total)
    assert strip_ansi(whole["content"]) == plain

    lines = plain.splitlines(keepends=True)
    part = admin.get(f"{url}?format=json&start_line=3&end_line=7").json
    assert (part["range"]["start"], part["range"]["end"]) == (3, 7)
    assert strip_ansi(part["content"]) == "".join(lines[3:7])
    tail = admin.get(f"{url}?format=json&start_line={total - 2}&end_line={total + 50}").json
    assert (tail["range"]["start"], tail["range"]["end"]) == (total - 2, total)
    assert strip_ansi(tail["content"]) == "".join(lines[total - 2:])

    page = admin.get(f"{url}?format=html")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.data.decode()
    assert "<html" in html.lower() and "PLAY RECAP" in html and "\x1b" not in html
    head = admin.get(f"{url}?format=html&start_line=0&end_line=3").data.decode()
    assert "PLAY [Recap play]" in head and "PLAY RECAP" not in head

    assert admin.get(f"{url}?format=bogus").status_code in (404, 406)


def test_stdout_json_absolute_end_counts_the_lines(admin, recap_job):
    """AWX: ``absolute_end`` = number of lines of the job's stdout (events joined, one newline each)."""
    total = awx_stdout(events(admin, recap_job["id"])).count("\n")
    for query in ("", "&start_line=3&end_line=7"):
        rng = admin.get(f"/api/v2/jobs/{recap_job['id']}/stdout/?format=json{query}").json["range"]
        assert rng["absolute_end"] == total, (query, rng)


def test_host_summaries_match_the_recap(admin, recap_job, inv, recap_jt):
    job_id = recap_job["id"]
    recap = {}
    for m in RECAP_LINE.finditer(txt(admin, job_id)):
        ok, changed, dark, failures, skipped, rescued, ignored = map(int, m.groups()[1:])
        recap[m.group(1)] = {"ok": ok, "changed": changed, "dark": dark, "failures": failures,
                             "skipped": skipped, "rescued": rescued, "ignored": ignored}
    assert set(recap) == {"h1", "h2"}
    assert recap["h1"]["changed"] == 1 and recap["h2"]["failures"] == 1 and recap["h1"]["skipped"] == 2
    rows = summaries(admin, job_id)
    assert [r["host_name"] for r in rows] == ["h1", "h2"]
    for r in rows:
        assert r["type"] == "job_host_summary" and r["job"] == job_id
        assert r["host"] == inv["_hosts"][r["host_name"]]
        assert {k: r[k] for k in recap[r["host_name"]]} == recap[r["host_name"]], r["host_name"]
        assert r["failed"] is (r["host_name"] == "h2")
        assert r["related"]["job"] == f"/api/v2/jobs/{job_id}/"
        assert r["related"]["host"] == f"/api/v2/hosts/{r['host']}/"
        assert r["summary_fields"]["host"]["name"] == r["host_name"]
    counts = admin.get(f"/api/v2/jobs/{job_id}/").json["host_status_counts"]
    assert set(counts) <= {"ok", "changed", "failures", "dark", "skipped"}
    assert {k: v for k, v in counts.items() if v} == {"changed": 1, "failures": 1}
    h2 = admin.get(f"/api/v2/hosts/{inv['_hosts']['h2']}/job_host_summaries/").json["results"]
    assert job_id in [r["job"] for r in h2]
    detail = admin.get(rows[1]["url"])
    assert detail.status_code == 200 and detail.json["failures"] == 1


def test_host_summary_summary_fields(admin, recap_job, recap_jt):
    row = summaries(admin, recap_job["id"])[1]
    job = row["summary_fields"]["job"]
    assert job["id"] == recap_job["id"] and job.get("status") == "failed" and job.get("failed") is True
    assert job.get("job_template_id") == recap_jt["id"]
    assert job.get("job_template_name") == recap_jt["name"]


# -- relaunch -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hello_job(admin, jobs, project, inv):
    jt = make_jt(admin, project, inv, "hello.yml", allow_simultaneous=True)
    job = wait_job(admin, launch(admin, jt)["id"])
    assert job["status"] == "successful", txt(admin, job["id"])
    return job


def test_relaunch_failed_hosts_only(admin, recap_job):
    job_id = recap_job["id"]
    info = admin.get(f"/api/v2/jobs/{job_id}/relaunch/")
    assert info.status_code == 200
    assert info.json == {"passwords_needed_to_start": [], "retry_counts": {"all": 2, "failed": 1}}
    resp = admin.post(f"/api/v2/jobs/{job_id}/relaunch/", {"hosts": "failed"})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["job"] == body["id"] != job_id and body["type"] == "job"
    assert body["url"] == f"/api/v2/jobs/{body['id']}/" and resp.headers["Location"].endswith(body["url"])
    assert body["launch_type"] == "relaunch" and body["limit"] == "h2"
    assert body["job_template"] == recap_job["job"]["job_template"]
    job = wait_job(admin, body["id"])
    assert job["status"] == "failed" and job["limit"] == "h2"
    assert [r["host_name"] for r in summaries(admin, job["id"])] == ["h2"]
    assert "ok: [h1]" not in txt(admin, job["id"])


def test_relaunch_all(admin, recap_job):
    resp = admin.post(f"/api/v2/jobs/{recap_job['id']}/relaunch/", {"hosts": "all"})
    assert resp.status_code == 201, resp.json
    assert resp.json["launch_type"] == "relaunch" and resp.json["limit"] == ""
    plain = admin.post(f"/api/v2/jobs/{recap_job['id']}/relaunch/", {})     # hosts defaults to all
    assert plain.status_code == 201 and plain.json["launch_type"] == "relaunch" and plain.json["limit"] == ""
    assert admin.post(f"/api/v2/jobs/{plain.json['id']}/cancel/").status_code == 202   # one run is enough
    job = wait_job(admin, resp.json["id"])
    assert job["status"] == "failed"
    assert [r["host_name"] for r in summaries(admin, job["id"])] == ["h1", "h2"]
    assert job["artifacts"] == {"build": 42, "tag": "release"}
    assert wait_job(admin, plain.json["id"])["status"] in ("canceled", "failed")


def test_relaunch_failed_of_a_job_without_failures(admin, hello_job):
    info = admin.get(f"/api/v2/jobs/{hello_job['id']}/relaunch/").json
    assert info["retry_counts"] == {"all": 2, "failed": 0}
    resp = admin.post(f"/api/v2/jobs/{hello_job['id']}/relaunch/", {"hosts": "failed"})
    assert resp.status_code == 400
    assert resp.json == {"hosts": "Cannot relaunch because previous job had 0 failed hosts."}
    bad = admin.post(f"/api/v2/jobs/{hello_job['id']}/relaunch/", {"hosts": "some"})
    assert bad.status_code == 400 and "hosts" in bad.json


# -- cancel, delete, timeout ----------------------------------------------------------------------
def wait_for_process(job_id: int, data_dir: Path, needle: str, timeout: float = 30) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = job_processes(job_id, data_dir)
        if any(needle in cmd for _pid, cmd in found):
            return found
        time.sleep(0.1)
    raise AssertionError(f"no '{needle}' process of job {job_id} appeared")


def run_dirs(data_dir: Path, job_id: int) -> list[str]:
    root = data_dir / "runs"
    return [p.name for p in root.iterdir() if p.name.startswith(f"job-{job_id}-")] if root.exists() else []


def test_cancel_a_running_job_leaves_nothing_behind(admin, jobs, project, inv1, data_dir):
    jt = make_jt(admin, project, inv1, "sleep.yml")
    job_id = launch(admin, jt)["id"]
    wait_status(admin, job_id, ["running"])
    found = wait_for_process(job_id, data_dir, "sleep 30")
    assert len(found) >= 2            # ansible-playbook and its workers, the module, sleep
    # the module unpacks its payload in the run's folder, which goes with the run: a killed
    # module leaves nothing in the node's /tmp
    module = next(pid for pid, cmd in found if "AnsiballZ_command.py" in cmd)
    with open(f"/proc/{module}/environ", "rb") as fh:
        tmpdir = dict(v.split(b"=", 1) for v in fh.read().split(b"\0") if b"=" in v)[b"TMPDIR"].decode()
    assert Path(tmpdir).parent.name in run_dirs(data_dir, job_id)
    assert [p.name.startswith("ansible_ansible.legacy.command_payload_") for p in Path(tmpdir).iterdir()] \
        .count(True) == 1
    assert admin.get(f"/api/v2/jobs/{job_id}/cancel/").json == {"can_cancel": True}
    # a running job can be neither deleted nor retried on failed hosts
    resp = admin.delete(f"/api/v2/jobs/{job_id}/")
    assert resp.status_code == 403 and resp.json == {"detail": "Cannot delete running job resource."}
    resp = admin.post(f"/api/v2/jobs/{job_id}/relaunch/", {"hosts": "failed"})
    assert resp.status_code == 400
    assert resp.json == {"hosts": "Wait until job finishes before retrying on failed hosts."}
    assert isinstance(admin.get(f"/api/v2/jobs/{job_id}/relaunch/").json["retry_counts"], str)

    asked = time.monotonic()
    resp = admin.post(f"/api/v2/jobs/{job_id}/cancel/")
    assert resp.status_code == 202 and resp.data in (b"", b"null", b"null\n")
    job = wait_job(admin, job_id, timeout=20, processed=False)
    took = time.monotonic() - asked
    assert job["status"] == "canceled" and job["failed"] is True, job["job_explanation"]
    assert took < 5, took
    assert job["canceled_on"] and job["finished"]
    assert processes_left(job_id, data_dir) == []
    assert run_dirs(data_dir, job_id) == []
    assert wait_job(admin, job_id)["event_processing_finished"] is True
    assert "TASK [nap]" in txt(admin, job_id)

    assert admin.get(f"/api/v2/jobs/{job_id}/cancel/").json == {"can_cancel": False}
    resp = admin.post(f"/api/v2/jobs/{job_id}/cancel/")
    assert resp.status_code == 405 and resp.json == {"detail": 'Method "POST" not allowed.'}
    assert admin.delete(f"/api/v2/jobs/{job_id}/").status_code == 204
    assert admin.get(f"/api/v2/jobs/{job_id}/").status_code == 404


def test_cancel_and_delete_of_a_finished_job(admin, hello_job):
    assert admin.get(f"/api/v2/jobs/{hello_job['id']}/cancel/").json == {"can_cancel": False}
    resp = admin.post(f"/api/v2/jobs/{hello_job['id']}/cancel/")
    assert resp.status_code == 405 and resp.json == {"detail": 'Method "POST" not allowed.'}
    assert admin.get(f"/api/v2/jobs/{hello_job['id']}/").json["status"] == "successful"


def test_timeout_fails_the_job_and_kills_its_processes(admin, jobs, project, inv1, data_dir):
    jt = make_jt(admin, project, inv1, "sleep.yml", timeout=3)
    job_id = launch(admin, jt)["id"]
    # processes of the job really ran (so that "nothing left" below means something): at least
    # ansible-playbook, and the 30 s sleep unless a loaded machine timed out before reaching it
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any("sleep 30" in cmd for cmd in seen):
        seen.update(cmd for _pid, cmd in job_processes(job_id, data_dir))
        if admin.get(f"/api/v2/jobs/{job_id}/").json["status"] in FINISHED:
            break
        time.sleep(0.05)
    assert any("ansible-playbook" in cmd for cmd in seen), seen
    job = wait_job(admin, job_id, timeout=30)
    assert job["status"] == "failed" and job["failed"] is True
    assert "timeout" in job["job_explanation"].lower()
    assert job["elapsed"] < 15
    assert processes_left(job_id, data_dir) == []
    assert run_dirs(data_dir, job_id) == []


# -- queueing -------------------------------------------------------------------------------------
def timeline(admin, job_ids: list[int], timeout: float = 60) -> list[tuple[str, ...]]:
    """Snapshots of the jobs' statuses (one tuple per change), polled until all finish."""
    snaps: list[tuple[str, ...]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = tuple(admin.get(f"/api/v2/jobs/{j}/").json["status"] for j in job_ids)
        if not snaps or snaps[-1] != states:
            snaps.append(states)
        if all(s in FINISHED for s in states):
            return snaps
        time.sleep(0.05)
    raise AssertionError(f"jobs did not finish: {snaps}")


def test_same_template_waits_unless_simultaneous_allowed(admin, jobs, project, inv1):
    serial = make_jt(admin, project, inv1, "sleep.yml", extra_vars="nap: 0.5")
    first, second = launch(admin, serial)["id"], launch(admin, serial)["id"]
    seen = timeline(admin, [first, second])
    a, b = wait_job(admin, first), wait_job(admin, second)
    assert a["status"] == b["status"] == "successful", seen
    assert parse_time(b["started"]) >= parse_time(a["finished"]), seen
    # while the first ran the second was seen pending, and the two never ran side by side
    assert ("running", "pending") in seen, seen
    assert not any(x in ("waiting", "running") and y in ("waiting", "running") for x, y in seen), seen

    parallel = make_jt(admin, project, inv1, "sleep.yml", extra_vars="nap: 0.5", allow_simultaneous=True)
    first, second = launch(admin, parallel)["id"], launch(admin, parallel)["id"]
    timeline(admin, [first, second])
    a, b = wait_job(admin, first), wait_job(admin, second)
    assert a["status"] == b["status"] == "successful"
    assert parse_time(b["started"]) < parse_time(a["finished"])
    assert parse_time(a["started"]) < parse_time(b["finished"])


@pytest.fixture
def small_node(tmp_path_factory):
    """A second controller on its own data dir whose node has CAPACITY 4 (a one-host job takes
    2, a two-host job 3)."""
    state = open_state(Settings({"DATA_DIR": str(tmp_path_factory.mktemp("capacity")), "CAPACITY": 4},
                                environ={}))
    initialize(state, "capacity-pw", demo=False)   # no Demo Project update competing for capacity
    state.start_jobs(workers=4)
    yield state, Client(create_app(state=state), "admin", "capacity-pw")
    state.stop_jobs()
    state.store.close()


def test_capacity_queue_starts_jobs_in_order(small_node):
    state, admin = small_node
    org = make_org(admin)
    project = make_project(admin, state.settings.data_dir, org, {"sleep.yml": SLEEP})
    one, two = make_inventory(admin, org, ["a"]), make_inventory(admin, org, ["b1", "b2"])
    plan = [(one, 2), (one, 2), (two, 3), (one, 2)]       # (inventory, impact)
    templates = [make_jt(admin, project, inventory, "sleep.yml", extra_vars="nap: 0.5") for inventory, _ in plan]
    ids = [launch(admin, jt)["id"] for jt in templates]
    timeline(admin, ids)
    done = [wait_job(admin, j) for j in ids]
    assert [j["status"] for j in done] == ["successful"] * 4, [j["job_explanation"] for j in done]
    start = [parse_time(j["started"]) for j in done]
    end = [parse_time(j["finished"]) for j in done]
    # 1 and 2 fit together (2 + 2 = 4) and ran side by side
    assert start[1] < end[0] and start[0] < end[1]
    # 3 needs 3: it waits until both are done
    assert start[2] >= max(end[0], end[1])
    # 4 would have fitted beside 2 once 1 was done, but may not jump the queue: it starts after 3
    # started, and as 3 + 2 > 4, only once 3 is done
    assert start[3] >= start[2] and start[3] >= end[2]
    # never more than the capacity at once
    for moment in start:
        load = sum(impact for (_inv, impact), s, e in zip(plan, start, end) if s <= moment < e)
        assert load <= 4, (moment, load)


# -- secrets --------------------------------------------------------------------------------------
def test_secrets_never_leave_the_run(admin, app_state, jobs, org, project, inv1, data_dir):
    canary = "c4n4ry-" + uniq("s").replace("-", "")
    ctype = admin.post("/api/v2/credential_types/", {
        "name": uniq("canary-type"), "kind": "cloud",
        "inputs": {"fields": [{"id": "token", "label": "Token", "type": "string", "secret": True}]},
        "injectors": {"env": {"CANARY_TOKEN": "{{ token }}"}}})
    assert ctype.status_code == 201, ctype.json
    machine = make_credential(admin, org, type_id(admin, "ssh"),
                              {"username": "deployer", "password": f"ssh-{canary}", "become_password": "ASK"})
    custom = make_credential(admin, org, ctype.json["id"], {"token": f"tok-{canary}"})
    jt = make_jt(admin, project, inv1, "canary.yml")
    attach_credential(admin, jt, machine)
    attach_credential(admin, jt, custom)
    set_survey(admin, jt, [{"type": "password", "question_name": "Secret", "question_description": "",
                            "variable": "secret", "required": True}])
    body = launch(admin, jt, {"extra_vars": {"secret": f"survey-{canary}"},
                              "credential_passwords": {"become_password": f"become-{canary}"}})
    job = wait_job(admin, body["id"])
    text = txt(admin, job["id"])
    assert job["status"] == "successful", text
    # the secrets did reach the playbook (scrubbed on the way back), so their absence below means something
    assert "env=$encrypted$ survey=$encrypted$" in text
    assert job["artifacts"] == {"leaked": "$encrypted$-$encrypted$"}
    assert "--ask-become-pass" in json.loads(job["job_args"])

    needle = canary
    exposed = {
        "launch answer": json.dumps(body),
        "job": json.dumps(admin.get(job["url"]).json),
        "job list": json.dumps(admin.get(f"/api/v2/jobs/?id={job['id']}").json),
        "events": json.dumps(events(admin, job["id"])),
        "events (truncated)": json.dumps(all_pages(admin, f"/api/v2/jobs/{job['id']}/job_events/")),
        "host summaries": json.dumps(summaries(admin, job["id"])),
        "activity stream": json.dumps(all_pages(admin, "/api/v2/activity_stream/")),
        "credentials": json.dumps(all_pages(admin, "/api/v2/credentials/")),
        "survey": json.dumps(admin.get(f"/api/v2/job_templates/{jt['id']}/survey_spec/").json),
        "relaunch": json.dumps(admin.get(f"/api/v2/jobs/{job['id']}/relaunch/").json),
    }
    for fmt in ("txt", "ansi", "json", "html", "txt_download", "ansi_download"):
        exposed[f"stdout {fmt}"] = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format={fmt}").data.decode()
    leaks = [where for where, value in exposed.items() if needle in value]
    assert leaks == []
    assert run_dirs(data_dir, job["id"]) == []
    # the scan reads the database itself (the template's name is stored there), and finds no canary
    assert any(path.endswith(("turret.sqlite3", "-wal")) for path in files_containing(data_dir, jt["name"].encode()))
    assert files_containing(data_dir, needle.encode()) == []
