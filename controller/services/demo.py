"""AWX's preloaded content on a fresh controller (AWX ``create_preload_data``): the managed
"Ansible Galaxy" credential as the Default organization's galaxy credential, a "Demo Credential"
(machine, the admin's username, no secret), a "Demo Project" (git) served from a repository that
ships with Turret, a "Demo Inventory" with localhost, and a "Demo Job Template" (with Turret's
one-question survey) ready to launch.

The Demo Project's repository is made on first start from the sample files of this package
(``controller/demo/``) under ``<data dir>/samples/``: a real git repository, reached with a
``file://`` URL that projects accept without ``ALLOW_LOCAL_SCM_URLS`` because the controller made
it itself.  Its first checkout is made here, at once, so the template can be launched before the
project's first update (queued as for any new git project) has run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..context import Context
from ..store import galaxy as cred_sql
from . import crud, relations
from .project_files import find_playbooks, project_dir
from .surveys import validate_spec

SAMPLES = Path(__file__).resolve().parent.parent / "demo"
SAMPLE_REPOSITORY = "ansible-tower-samples"
GALAXY_URL = "https://galaxy.ansible.com/"
_GIT_IDENTITY = ("-c", "user.name=Turret", "-c", "user.email=turret@localhost", "-c", "commit.gpgsign=false",
                 "-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null")

DEMO_SURVEY = {"name": "Greeting", "description": "Who should the demo greet?", "spec": [
    {"question_name": "Name to greet", "question_description": "Printed by the Hello Message task",
     "variable": "greeting_name", "type": "text", "required": False, "default": "World",
     "min": 0, "max": 64, "choices": ""}]}


def sample_repository(settings) -> Path:
    """Where this controller keeps the Demo Project's repository."""
    return Path(settings.data_dir) / "samples" / SAMPLE_REPOSITORY


def is_sample_url(settings, url: str) -> bool:
    """Is ``url`` the ``file://`` URL of this controller's own sample repository?"""
    return url == sample_repository(settings).as_uri()


def _git(cwd: Path, *args: str) -> str:
    """Run git (argv, no shell) in ``cwd``; its stdout.  Raises CalledProcessError on failure."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", *_GIT_IDENTITY, *args], cwd=str(cwd), env=env, check=True, capture_output=True,
                          text=True, timeout=60).stdout


def ensure_sample_repository(settings) -> Path | None:
    """The git repository of the shipped samples, made once; None when git is not installed."""
    if shutil.which("git") is None:
        return None
    repo = sample_repository(settings)
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        for source in sorted(SAMPLES.iterdir()):
            if source.is_file() and source.suffix in (".yml", ".yaml", ".md"):
                shutil.copyfile(source, repo / source.name)
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "Sample playbooks shipped with Turret")
    return repo


def ensure_galaxy_credential(ctx: Context, org: dict) -> dict:
    """The managed "Ansible Galaxy" credential (public Galaxy, no token), made once and set as
    ``org``'s galaxy credential."""
    type_id = cred_sql.managed_type_id(ctx.store, "galaxy_api_token")
    found = cred_sql.managed_credential(ctx.store, "Ansible Galaxy", type_id)
    cred = found or crud.insert_trusted(ctx, ctx.registry["credential"], {
        "name": "Ansible Galaxy", "credential_type": type_id, "managed": True, "organization": None,
        "inputs": {"url": GALAXY_URL}})
    org_res = ctx.registry["organization"]
    relations.associate(ctx, org_res, org, org_res.relation("galaxy_credentials"), cred, on=True)
    return cred


def _demo_project(ctx: Context, org: dict, fallback: dict) -> dict:
    """The git Demo Project over the sample repository, checked out now; ``fallback`` (the
    built-in project, which has the same playbook) when git is missing."""
    repo = ensure_sample_repository(ctx.settings)
    if repo is None:
        return fallback
    project = crud.create(ctx, ctx.registry["project"], {
        "name": "Demo Project", "organization": org["id"], "scm_type": "git", "scm_url": repo.as_uri(),
        "description": "AWX's sample playbooks, from a repository this controller made of the samples it ships."})
    project = ctx.store.get("projects", project["id"])
    folder = project_dir(ctx, project)
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        _git(folder.parent, "clone", "-q", repo.as_uri(), str(folder))
    revision = _git(folder, "rev-parse", "HEAD").strip()
    with ctx.store.transaction():
        ctx.store.update("projects", project["id"], {"scm_revision": revision,
                                                     "playbook_files": find_playbooks(folder)})
    return ctx.store.get("projects", project["id"])


def ensure_demo(ctx: Context, org: dict, builtin_project: dict, admin: dict | None) -> None:
    """AWX's demo content in ``org`` (the Default organization), acting as ``ctx`` (the system)."""
    reg = ctx.registry
    ensure_galaxy_credential(ctx, org)
    cred = crud.create(ctx, reg["credential"], {
        "name": "Demo Credential", "credential_type": cred_sql.managed_type_id(ctx.store, "ssh"),
        "inputs": {"username": (admin or {}).get("username") or "admin"},
        **({"user": admin["id"]} if admin else {"organization": org["id"]})})
    project = _demo_project(ctx, org, builtin_project)
    inv = crud.create(ctx, reg["inventory"], {"name": "Demo Inventory", "organization": org["id"]})
    crud.create(ctx, reg["host"], {"name": "localhost", "inventory": inv["id"],
                                   "variables": "ansible_connection: local\n"})
    jt = crud.create(ctx, reg["job_template"], {"name": "Demo Job Template", "inventory": inv["id"],
                                                "project": project["id"], "playbook": "hello_world.yml",
                                                "survey_enabled": True})
    jt_res = reg["job_template"]
    relations.associate(ctx, jt_res, jt, jt_res.relation("credentials"), cred, on=True)
    spec = validate_spec(DEMO_SURVEY, {}, ctx.vault.encrypt)
    with ctx.store.transaction():
        ctx.store.update("job_templates", jt["id"], {"survey_spec": spec})
