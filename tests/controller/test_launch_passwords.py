"""The credential passwords typed at a launch are kept, encrypted, only until the job ends,
whichever way it ends: here a job canceled while still pending (no dispatcher runs in this
module, so it never starts) forgets them as a finished run does."""
from __future__ import annotations

from tests.support.jobs import (attach_credential, launch, make_credential, make_inventory, make_jt, make_org,
                                make_project, type_id)


def test_a_job_canceled_while_pending_forgets_its_launch_passwords(admin, app_state):
    org = make_org(admin)
    project = make_project(admin, app_state.settings.data_dir, org, {"p.yml": "- hosts: all\n  tasks: []\n"})
    jt = make_jt(admin, project, make_inventory(admin, org), "p.yml")
    attach_credential(admin, jt, make_credential(admin, org, type_id(admin, "ssh"),
                                                 {"username": "deployer", "password": "ASK"}))
    job = launch(admin, jt, {"credential_passwords": {"ssh_password": "typed-pw-4411"}})
    stored = app_state.store.get("jobs", job["id"])
    assert stored["status"] == "pending" and stored["credential_passwords"]        # encrypted while it waits
    assert "typed-pw-4411" not in stored["credential_passwords"]
    assert admin.post(f"/api/v2/jobs/{job['id']}/cancel/").status_code == 202
    ended = app_state.store.get("jobs", job["id"])
    assert ended["status"] == "canceled" and ended["credential_passwords"] == ""
