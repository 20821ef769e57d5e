"""Input sources resolved at job start, for real: jobs whose credentials take values from a
local HTTP server speaking HashiCorp Vault's API (KV v1 with a token, KV v2 with an AppRole
login and a namespace, SSH certificate signing).

The playbook proves each value reached the run without printing it in the clear (it compares
SHA-1 digests), then prints them on purpose: they must come back scrubbed.  The values are then
looked for in every API body of the job, its events, stdout, the activity stream and every file
of the data directory (the SQLite database and its WAL included).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.jobs import (
    all_pages, attach_credential, events, files_containing, launch, make_credential, make_jt, make_stage, type_id,
    uniq, wait_finished, wait_job,
)
from tests.support.secret_stores import FakeVault

pytestmark = pytest.mark.slow

TOKEN = "tok-" + uniq("kv2").replace("-", "")          # looked up from KV v2 (AppRole login, namespace)
USER = "usr-" + uniq("kv1").replace("-", "")           # looked up from KV v1 (token)
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPublicKeyForTurretTests tester"
CERT = f"signed({PUBLIC_KEY})by(deployers)"            # what the fake vault's SSH signer returns


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


PLAY = f"""- hosts: all
  gather_facts: false
  tasks:
    - name: the looked-up values reached the run
      assert:
        that:
          - lookup('env', 'LOOKED_UP_TOKEN') | hash('sha1') == '{sha1(TOKEN)}'
          - looked_up_user | hash('sha1') == '{sha1(USER)}'
          - lookup('env', 'LOOKED_UP_CERT') | hash('sha1') == '{sha1(CERT)}'
    - name: print them (they must come back scrubbed)
      debug:
        msg: "token={{{{ lookup('env', 'LOOKED_UP_TOKEN') }}}} user={{{{ looked_up_user }}}}"
"""


@pytest.fixture(scope="module")
def vault():
    with FakeVault(kv1={"kv/app": {"user": USER}}, kv2={"secret/app/api": [{"token": "old"}, {"token": TOKEN}]},
                   ssh_roles={"ssh-client-signer/deployers"}, approles={"role-1": "secret-1"}) as server:
        yield server


@pytest.fixture(scope="module")
def scene(admin, app_state, jobs, vault):
    data_dir = Path(app_state.settings.data_dir)
    stage = make_stage(admin, data_dir, {"lookup.yml": PLAY})
    org = stage["org"]
    ctype = admin.post("/api/v2/credential_types/", {
        "name": uniq("looked-up"), "kind": "cloud",
        "inputs": {"fields": [{"id": "user", "label": "User"},
                              {"id": "token", "label": "Token", "secret": True},
                              {"id": "cert", "label": "Certificate", "secret": True, "multiline": True}],
                   "required": ["user", "token"]},
        "injectors": {"env": {"LOOKED_UP_TOKEN": "{{ token }}", "LOOKED_UP_CERT": "{{ cert }}"},
                      "extra_vars": {"looked_up_user": "{{ user }}"}}})
    assert ctype.status_code == 201, ctype.json
    kv_token = make_credential(admin, org, type_id(admin, "hashivault_kv"),
                               {"url": vault.url, "token": vault.token, "api_version": "v1"})
    kv_approle = make_credential(admin, org, type_id(admin, "hashivault_kv"), {
        "url": vault.url, "role_id": "role-1", "secret_id": "secret-1", "api_version": "v2", "namespace": "team-a"})
    signer = make_credential(admin, org, type_id(admin, "hashivault_ssh"), {"url": vault.url, "token": vault.token})
    # "user" and "token" are required: the credential is accepted empty, the sources fill them
    target = make_credential(admin, org, ctype.json["id"], {})
    for field_name, source, metadata in (
            ("user", kv_token, {"secret_path": "/kv/app", "secret_key": "user"}),
            ("token", kv_approle, {"secret_path": "/secret/app/api", "secret_key": "token"}),
            ("cert", signer, {"secret_path": "ssh-client-signer", "role": "deployers", "public_key": PUBLIC_KEY})):
        resp = admin.post(f"/api/v2/credentials/{target['id']}/input_sources/", {
            "source_credential": source["id"], "input_field_name": field_name, "metadata": metadata})
        assert resp.status_code == 201, resp.json
    jt = make_jt(admin, stage["project"], stage["inventory"], "lookup.yml")
    attach_credential(admin, jt, target)
    job = wait_job(admin, launch(admin, jt)["id"], timeout=90)
    return {"job": job, "jt": jt, "target": target, "org": org, "stage": stage, "data_dir": data_dir,
            "ctype": ctype.json, "kv_token": kv_token}


def test_the_values_reached_the_job(admin, scene, vault):
    job = scene["job"]
    stdout = admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data.decode()
    assert job["status"] == "successful", (job["job_explanation"], stdout)
    assert "the looked-up values reached the run" in stdout and "All assertions passed" in stdout
    logins = [r for r in vault.requests if r.path == "/v1/auth/approle/login"]
    reads = [r for r in vault.requests if r.path == "/v1/secret/data/app/api"]
    assert logins and reads and reads[-1].headers["x-vault-namespace"] == "team-a"
    assert reads[-1].headers["x-vault-token"] == vault.login_token
    signs = [r for r in vault.requests if r.path == "/v1/ssh-client-signer/sign/deployers"]
    assert signs and signs[-1].json() == {"public_key": PUBLIC_KEY}


def test_the_values_appear_nowhere(admin, scene):
    job = scene["job"]
    needles = [TOKEN, USER, CERT]
    bodies = [admin.get(f"/api/v2/jobs/{job['id']}/").data,
              admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=txt").data,
              admin.get(f"/api/v2/jobs/{job['id']}/stdout/?format=json").data,
              json.dumps(events(admin, job["id"])).encode(),
              json.dumps(all_pages(admin, "/api/v2/activity_stream/")).encode(),
              admin.get(f"/api/v2/credentials/{scene['target']['id']}/").data,
              json.dumps(all_pages(admin, f"/api/v2/credentials/{scene['target']['id']}/input_sources/")).encode()]
    for needle in needles:
        assert not [i for i, body in enumerate(bodies) if needle.encode() in body], needle
        assert files_containing(scene["data_dir"], needle.encode()) == [], needle
    printed = [e for e in events(admin, job["id"]) if "token=" in (e["stdout"] or "")]
    assert printed and "$encrypted$" in printed[0]["stdout"]


def test_a_failed_lookup_errors_the_job_without_a_secret(admin, scene, vault):
    org, stage = scene["org"], scene["stage"]
    broken = make_credential(admin, org, scene["ctype"]["id"], {"user": "someone"})
    resp = admin.post(f"/api/v2/credentials/{broken['id']}/input_sources/", {
        "source_credential": scene["kv_token"]["id"], "input_field_name": "token",
        "metadata": {"secret_path": "/kv/missing", "secret_key": "token"}})
    assert resp.status_code == 201, resp.json
    jt = make_jt(admin, stage["project"], stage["inventory"], "lookup.yml")
    attach_credential(admin, jt, broken)
    job = wait_job(admin, launch(admin, jt)["id"], timeout=60)
    assert job["status"] == "error"
    assert job["job_explanation"] == (
        f"Could not fetch the input 'token' of credential {broken['name']!r} from {scene['kv_token']['name']!r} "
        "(HashiCorp Vault Secret Lookup): HTTP 404")
    assert vault.token not in json.dumps(job)
    assert events(admin, job["id"]) == []


def test_an_ad_hoc_command_looks_up_its_machine_credential(admin, scene, vault):
    org, stage = scene["org"], scene["stage"]
    machine = make_credential(admin, org, type_id(admin, "ssh"), {})
    resp = admin.post(f"/api/v2/credentials/{machine['id']}/input_sources/", {
        "source_credential": scene["kv_token"]["id"], "input_field_name": "username",
        "metadata": {"secret_path": "/kv/nothing-here", "secret_key": "user"}})
    assert resp.status_code == 201, resp.json
    made = admin.post("/api/v2/ad_hoc_commands/", {"inventory": stage["inventory"]["id"], "credential": machine["id"],
                                                   "module_name": "ping", "limit": "all"})
    assert made.status_code == 201, made.json
    cmd = wait_finished(admin, f"/api/v2/ad_hoc_commands/{made.json['id']}/", timeout=60)
    assert cmd["status"] == "error" and "Could not fetch the input 'username'" in cmd["job_explanation"], cmd
    # fixed source: the command runs (the username reached ansible's -u, scrubbed from job_args)
    fixed = admin.patch(f"/api/v2/credential_input_sources/{resp.json['id']}/",
                        {"metadata": {"secret_path": "/kv/app", "secret_key": "user"}})
    assert fixed.status_code == 200
    again = admin.post("/api/v2/ad_hoc_commands/", {"inventory": stage["inventory"]["id"],
                                                    "credential": machine["id"], "module_name": "ping"})
    cmd = wait_finished(admin, f"/api/v2/ad_hoc_commands/{again.json['id']}/", timeout=60)
    assert cmd["status"] == "successful", cmd["job_explanation"]
    assert USER not in cmd["job_args"] and "-u" in cmd["job_args"]
