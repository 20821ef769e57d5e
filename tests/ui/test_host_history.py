"""A host's page shows its recent job results (AWX's host job history), from real jobs, newest
first, only the jobs the viewer may see."""
from __future__ import annotations

import re

import pytest

from tests.support.jobs import launch, make_jt, make_stage, uniq, wait_job

from .page_client import Ui, make_user, page_fixtures

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - name: fail on the bad host only
      ansible.builtin.fail: {msg: bad host}
      when: inventory_hostname == 'hist-bad'
    - name: change something
      ansible.builtin.command: "true"
      changed_when: true
"""


app, api, _ui = page_fixtures(jobs=True)


@pytest.mark.slow
def test_the_host_page_lists_the_hosts_job_results(app, api):
    stage = make_stage(api, app.data_dir, {"play.yml": PLAYBOOK}, hosts=("hist-good", "hist-bad"))
    jt = make_jt(api, stage["project"], stage["inventory"], "play.yml")
    first = wait_job(api, launch(api, jt)["id"], timeout=90)
    second = wait_job(api, launch(api, jt)["id"], timeout=90)
    assert first["status"] == second["status"] == "failed"
    ui = Ui(app)
    good, bad = stage["inventory"]["_hosts"]["hist-good"], stage["inventory"]["_hosts"]["hist-bad"]
    page = ui.get(f"/ui/hosts/{good}")
    assert page.status_code == 200
    history = page.text.split('id="host-history"', 1)[1]
    rows = re.findall(r'<tr data-job="(\d+)"', history)
    assert rows == [str(second["id"]), str(first["id"])]                 # newest first
    assert history.count('data-host-result="changed"') == 2 and 'data-host-result="failed"' not in history
    assert f'href="/ui/templates/{jt["id"]}"' in history
    bad_page = ui.get(f"/ui/hosts/{bad}").text.split('id="host-history"', 1)[1]
    assert bad_page.count('data-host-result="failed"') == 2
    # the same rows as the API's host job history
    api_rows = api.one(f"/api/v2/hosts/{good}/job_host_summaries/?order_by=-id")["results"]
    assert [str(s["job"]) for s in api_rows] == rows


def test_a_host_without_jobs_and_a_reader_who_cannot_see_the_jobs(app, api):
    stage = make_stage(api, app.data_dir, {"play.yml": PLAYBOOK}, hosts=("quiet",))
    host = stage["inventory"]["_hosts"]["quiet"]
    page = Ui(app).get(f"/ui/hosts/{host}")
    assert "No job has run on this host yet." in page.text
    reader = make_user(api, app, uniq("reader"))
    role = api.one(f"/api/v2/inventories/{stage['inventory']['id']}/object_roles/?role_field=read_role")["results"][0]
    assert api.post(f"/api/v2/users/{reader.user_id}/roles/", {"id": role["id"]}).status_code == 204
    page = reader.get(f"/ui/hosts/{host}")
    assert page.status_code == 200 and 'id="host-history"' in page.text
