"""Galaxy credentials of organizations and the galaxy content of projects, as AWX: the ordered
``/organizations/N/galaxy_credentials/`` list, and project updates that install
``collections/requirements.yml`` with ``ansible-galaxy`` from those servers (a real local Galaxy v3
server here) for the project's jobs to use, the token never in output, arguments or files."""
from __future__ import annotations

import io
import json
import tarfile

import pytest

from tests.support.galaxy import GalaxyServer, build_collection
from tests.support.gitserver import GitServer
from tests.support.jobs import (events, files_containing, launch, make_inventory, make_jt, type_id, uniq,
                                wait_job, wait_update)

JOB_WORKERS = 2
TOKEN = "galaxy-token-Zq81xW3kPz"   # distinctive: searched for in every output and file
ECHO_MODULE = '''from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(msg=dict(type="str")))
    module.exit_json(changed=False, echoed="tiny says " + module.params["msg"])


if __name__ == "__main__":
    main()
'''
USE_TINY = """- hosts: all
  gather_facts: false
  tasks:
    - name: Use the collection installed by the project update
      turrettest.tiny.echo:
        msg: hello
      register: said
    - ansible.builtin.debug:
        var: said.echoed
"""


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    return build_collection(tmp_path_factory.mktemp("collection"), "turrettest", "tiny",
                            modules={"echo.py": ECHO_MODULE})


@pytest.fixture(scope="module")
def galaxy(tarball):
    server = GalaxyServer([tarball], token=TOKEN)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def git(tmp_path_factory):
    server = GitServer(tmp_path_factory.mktemp("git"))
    yield server
    server.stop()


def _galaxy_credential(admin, org: dict, url: str, token: str = "") -> dict:
    inputs = {"url": url, **({"token": token} if token else {})}
    resp = admin.post("/api/v2/credentials/", {"name": uniq("galaxy"), "organization": org["id"],
                                               "credential_type": type_id(admin, "galaxy_api_token"),
                                               "inputs": inputs})
    assert resp.status_code == 201, resp.json
    return resp.json


def _listed(admin, org: dict) -> list[int]:
    return [c["id"] for c in admin.get(f"/api/v2/organizations/{org['id']}/galaxy_credentials/").json["results"]]


def test_galaxy_credentials_are_an_ordered_list_of_galaxy_credentials(admin, make_org, make_user):
    org = make_org()
    first, second = (_galaxy_credential(admin, org, f"https://hub{i}.example/") for i in (1, 2))
    url = f"/api/v2/organizations/{org['id']}/galaxy_credentials/"
    assert admin.get(f"/api/v2/organizations/{org['id']}/").json["related"]["galaxy_credentials"] == url
    assert admin.post(url, {"id": second["id"]}).status_code == 204
    assert admin.post(url, {"id": first["id"]}).status_code == 204
    assert _listed(admin, org) == [second["id"], first["id"]]       # the order of association, not of ids
    assert [c["id"] for c in admin.get(url + "?order_by=id").json["results"]] == [first["id"], second["id"]]
    machine = admin.post("/api/v2/credentials/", {"name": uniq("ssh"), "organization": org["id"],
                                                  "credential_type": type_id(admin, "ssh"),
                                                  "inputs": {"username": "u"}}).json
    refused = admin.post(url, {"id": machine["id"]})
    assert refused.status_code == 400 and refused.json == {"msg": "Credential must be a Galaxy credential, not Machine."}
    assert admin.post(url, {"id": second["id"], "disassociate": True}).status_code == 204
    assert admin.post(url, {"id": second["id"]}).status_code == 204
    assert _listed(admin, org) == [first["id"], second["id"]]
    stream = admin.get(f"/api/v2/organizations/{org['id']}/activity_stream/").json["results"]
    assert any(e["operation"] == "disassociate" and e["object_association"] == "galaxy_credentials" for e in stream)
    # a member who is not an admin of the organization may not change the list
    member_id, member = make_user()
    assert admin.post(f"/api/v2/organizations/{org['id']}/users/", {"id": member_id}).status_code == 204
    assert member.post(url, {"id": first["id"], "disassociate": True}).status_code == 403
    assert _listed(admin, org) == [first["id"], second["id"]]


def _project(admin, org: dict, git: GitServer, files: dict[str, str], binary: dict | None = None) -> dict:
    name = uniq("repo")
    git.create(name, files)
    if binary:   # a second commit with binary files (a collection tarball)
        clone = git.work / name
        for rel, data in binary.items():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            (clone / rel).write_bytes(data)
        git.commit(name, {"README.md": "with a tarball\n"})
    resp = admin.post("/api/v2/projects/", {"name": uniq("project"), "organization": org["id"], "scm_type": "git",
                                            "scm_url": git.url(name)})
    assert resp.status_code == 201, resp.json
    return resp.json


def _last_update(admin, project: dict) -> dict:
    found = admin.get(f"/api/v2/projects/{project['id']}/project_updates/?order_by=-id").json["results"]
    return wait_update(admin, found[0]["id"], timeout=120)


@pytest.mark.slow
def test_project_update_installs_collections_from_the_galaxy_servers_for_its_jobs(admin, app_state, jobs, make_org,
                                                                                   galaxy, git):
    org = make_org()
    unused = _galaxy_credential(admin, org, "http://127.0.0.1:9/")          # listed second: never needed
    cred = _galaxy_credential(admin, org, galaxy.url, TOKEN)
    url = f"/api/v2/organizations/{org['id']}/galaxy_credentials/"
    for c in (cred, unused):
        assert admin.post(url, {"id": c["id"]}).status_code == 204
    project = _project(admin, org, git, {
        "collections/requirements.yml": "collections:\n  - name: turrettest.tiny\n    version: 1.0.0\n",
        "use_tiny.yml": USE_TINY})
    update = _last_update(admin, project)
    stdout = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt").get_data(as_text=True)
    assert update["status"] == "successful", stdout
    assert "TASK [Install the collections of collections/requirements.yml]" in stdout
    # the token reached the server in the Authorization header, and nowhere else
    assert [s.authorization for s in galaxy.seen if "turrettest/tiny" in s.path] and \
        all(s.authorization == f"Token {TOKEN}" for s in galaxy.seen)
    assert TOKEN not in stdout and TOKEN not in json.dumps(update)
    assert update["job_env"]["ANSIBLE_GALAXY_SERVER_LIST"] == "server0,server1"
    assert update["job_env"]["ANSIBLE_GALAXY_SERVER_SERVER0_URL"] == galaxy.url
    assert update["job_env"]["ANSIBLE_GALAXY_SERVER_SERVER0_TOKEN"] != TOKEN
    pu_events = admin.get(f"/api/v2/project_updates/{update['id']}/events/?page_size=200").get_data(as_text=True)
    assert "ansible-galaxy" in pu_events and TOKEN not in pu_events
    installed = app_state.settings.data_dir / "project_requirements" / str(project["id"]) / "current"
    assert (installed / "requirements_collections" / "ansible_collections" / "turrettest" / "tiny" /
            "MANIFEST.json").is_file()

    inventory = make_inventory(admin, org, ["localhost"])
    jt = make_jt(admin, project, inventory, "use_tiny.yml")
    job = wait_job(admin, launch(admin, jt)["job"], timeout=120)
    text = "".join(e["stdout"] for e in events(admin, job["id"]))
    assert job["status"] == "successful", text
    assert "tiny says hello" in text
    assert str(installed / "requirements_collections") in job["job_env"]["ANSIBLE_COLLECTIONS_PATH"]
    assert files_containing(app_state.settings.data_dir, TOKEN.encode()) == []


def _role_tarball(work) -> bytes:
    """A role ``greeter`` (one debug task) as a .tar.gz, as ``ansible-galaxy role install`` takes it."""
    src = work / "greeter" / "tasks"
    src.mkdir(parents=True)
    (src / "main.yml").write_text("- ansible.builtin.debug:\n    msg: greeter role says hi\n")
    (work / "greeter" / "meta").mkdir()
    (work / "greeter" / "meta" / "main.yml").write_text("galaxy_info: {author: t, description: t, license: MIT, "
                                                        "min_ansible_version: '2.15', platforms: []}\n")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.add(work / "greeter", arcname="greeter")
    return out.getvalue()


@pytest.mark.slow
def test_requirements_may_name_tarballs_in_the_project(admin, app_state, jobs, make_org, git, tarball, tmp_path):
    """collections/requirements.yml with a ``type: file`` collection and roles/requirements.yml
    with a role archive, both committed in the project: no server is contacted."""
    org = make_org()
    # AWX installs content only for organizations with galaxy credentials (none is contacted here)
    cred = _galaxy_credential(admin, org, "http://127.0.0.1:9/")
    assert admin.post(f"/api/v2/organizations/{org['id']}/galaxy_credentials/", {"id": cred["id"]}).status_code == 204
    project = _project(admin, org, git, {
        "collections/requirements.yml": f"collections:\n  - name: ./collections/{tarball.name}\n    type: file\n",
        "roles/requirements.yml": "- src: ./roles/greeter.tar.gz\n  name: greeter\n",
        "use_tiny.yml": USE_TINY + "\n- hosts: all\n  gather_facts: false\n  roles: [greeter]\n"},
        binary={f"collections/{tarball.name}": tarball.read_bytes(), "roles/greeter.tar.gz": _role_tarball(tmp_path)})
    update = _last_update(admin, project)
    stdout = admin.get(f"/api/v2/project_updates/{update['id']}/stdout/?format=txt").get_data(as_text=True)
    assert update["status"] == "successful", stdout
    assert "TASK [Install the roles of roles/requirements.yml]" in stdout
    inventory = make_inventory(admin, org, ["localhost"])
    job = wait_job(admin, launch(admin, make_jt(admin, project, inventory, "use_tiny.yml"))["job"], timeout=120)
    text = "".join(e["stdout"] for e in events(admin, job["id"]))
    assert job["status"] == "successful" and "tiny says hello" in text and "greeter role says hi" in text, text
    installed = app_state.settings.data_dir / "project_requirements" / str(project["id"]) / "current"
    assert job["job_env"]["ANSIBLE_ROLES_PATH"] == str(installed / "requirements_roles")


@pytest.mark.slow
def test_without_galaxy_credentials_nothing_is_installed(admin, app_state, jobs, make_org, git):
    org = make_org()
    project = _project(admin, org, git, {
        "collections/requirements.yml": "collections:\n  - name: turrettest.tiny\n", "use_tiny.yml": USE_TINY})
    update = _last_update(admin, project)
    assert update["status"] == "successful"
    assert "ANSIBLE_GALAXY_SERVER_LIST" not in update["job_env"]
    assert not (app_state.settings.data_dir / "project_requirements" / str(project["id"])).exists()
