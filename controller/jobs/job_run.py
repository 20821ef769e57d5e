"""Jobs of job templates: how one is prepared for the executor and what its end records.

Secrets (credential inputs, prompted passwords, survey passwords) are decrypted here, in
memory, and handed to the executor as runner passwords / ssh key / 0600 files inside the run
directory; they never go on a command line, and every value is in ``spec.secrets`` so it is
scrubbed from events, job_args and job_env.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from ..collection import collections_path
from ..lookups import LookupFailed, credential_inputs
from ..services import credential_inputs as ci
from ..services import galaxy
from ..services.credential_injectors import render_injectors
from ..services.inventory_script import script_data
from ..services.project_files import confined, project_dir
from ..services.variables import parse_vars
from ..store import jobs as q
from ..store import now_iso
from . import branch_checkout, environment, project_update
from .summaries import count_statuses
from .spec import JobError, RunSpec
from .staging import PLAYBOOK_PYTHON

SSH_PROMPT = r"SSH password:\s*?$"
BECOME_PROMPT = r"BECOME password.*:\s*?$"


def _inventory_deps(job: dict) -> list[int]:
    raw = job.get("dependency_inventory_updates")
    return json.loads(raw) if isinstance(raw, str) and raw else list(raw or [])


def _group_vars(script: dict) -> dict[str, dict]:
    """{host: the vars its groups give it, merged as Ansible merges them}: ``all`` first, then
    every group holding the host (through children) by depth, ``ansible_group_priority`` and
    name, a later group's value winning (``ansible.inventory.helpers.sort_groups``).  A group no
    other group lists is a child of ``all``."""
    parents: dict[str, set[str]] = {}
    direct: dict[str, set[str]] = {}
    for group, body in script.items():
        if group == "_meta" or not isinstance(body, dict):
            continue
        for child in body.get("children") or []:
            parents.setdefault(child, set()).add(group)
        for host in body.get("hosts") or []:
            direct.setdefault(host, set()).add(group)
    depth: dict[str, int] = {"all": 0}

    def depth_of(group: str, path: frozenset = frozenset()) -> int:
        if group not in depth:      # a cycle (refused on write) counts as no parent
            above = [depth_of(p, path | {group}) for p in parents.get(group, ()) if p not in path | {group}]
            depth[group] = 1 + max(above or [0])
        return depth[group]

    def vars_of(group: str) -> dict:
        return (script.get(group) or {}).get("vars") or {}

    out: dict[str, dict] = {}
    for host, groups in direct.items():
        seen, todo = set(), list(groups)
        while todo:
            group = todo.pop()
            if group not in seen:
                seen.add(group)
                todo += parents.get(group, ())
        seen.discard("all")
        ordered = sorted(seen, key=lambda g: (depth_of(g), _priority(vars_of(g)), g))
        merged = dict(vars_of("all"))
        for group in ordered:
            merged.update(vars_of(group))
        out[host] = merged
    return out


def _priority(group_vars: dict) -> int:
    try:
        return int(group_vars.get("ansible_group_priority", 1))
    except (TypeError, ValueError):
        return 1


def _runs_local_without_interpreter(own: dict, inherited: dict) -> bool:
    """Whether a host connects locally (its own ``ansible_connection``, else the one its groups
    give it) and no level of the inventory names an interpreter for it: one set on the host, a
    group or ``all`` wins over Turret's default, as it would over any host default of ours."""
    if "ansible_python_interpreter" in own or "ansible_python_interpreter" in inherited:
        return False
    return {**inherited, **own}.get("ansible_connection") == "local"


def yaml_inventory(script: dict, run: bool = True) -> tuple[dict, dict[str, int]]:
    """AWX script-format inventory -> the YAML-inventory structure ansible reads from a JSON
    file, plus {host name: host id} (taken from the ``remote_host_id`` tower vars).  ``run``:
    the inventory a job runs against, whose local hosts get :data:`PLAYBOOK_PYTHON` unless an
    interpreter is named for them anywhere in the inventory (False for an inventory only read,
    e.g. a constructed source's input: the default must not become a variable of the hosts it
    imports)."""
    hostvars = dict((script.get("_meta") or {}).get("hostvars") or {})
    inherited = _group_vars(script) if run else {}
    no_group = (script.get("all") or {}).get("vars") or {}     # a host listed in no group: all's vars
    ids: dict[str, int] = {}
    hosts: dict[str, dict] = {}
    for name, hv in hostvars.items():
        hv = dict(hv)
        hid = hv.pop("remote_host_id", None)
        for key in ("remote_tower_enabled", "remote_tower_id", "remote_host_enabled"):
            hv.pop(key, None)
        if hid is not None:
            ids[name] = hid
        if run and _runs_local_without_interpreter(hv, inherited.get(name, no_group)):
            hv["ansible_python_interpreter"] = PLAYBOOK_PYTHON
        hosts[name] = hv
    top = script.get("all") or {}
    children: dict[str, dict] = {}
    for group, body in script.items():
        if group in ("all", "_meta") or not isinstance(body, dict):
            continue
        node: dict = {}
        if body.get("hosts"):
            node["hosts"] = {h: None for h in body["hosts"]}
        if body.get("vars"):
            node["vars"] = body["vars"]
        if body.get("children"):
            node["children"] = {c: {} for c in body["children"]}
        children[group] = node
    inventory: dict = {"all": {"hosts": hosts}}
    if top.get("vars"):
        inventory["all"]["vars"] = top["vars"]
    if children:
        inventory["all"]["children"] = children
    return inventory, ids


def run_inputs(ctx, cred: dict, ctype: dict, spec: RunSpec) -> dict:
    """A credential's inputs for a run: decrypted, each input with an input source looked up
    now (:func:`controller.lookups.credential_inputs`).  Every value looked up joins
    ``spec.secrets`` (scrubbed from events and job_args); a failed lookup stops the run."""
    try:
        inputs, fetched = credential_inputs(ctx, cred, ctype)
    except LookupFailed as exc:
        raise JobError(str(exc)) from None
    spec.secrets += [v for v in fetched if v and v not in spec.secrets]
    return inputs


def _credentials(ctx, job_id: int, spec: RunSpec) -> list[tuple[dict, dict, dict]]:
    """(credential row, its type row, its inputs for the run) for each credential of the job."""
    out = []
    for cred in q.job_credentials(ctx.store, job_id):
        ctype = ctx.store.get("credential_types", cred["credential_type"])
        out.append((cred, ctype, run_inputs(ctx, cred, ctype, spec)))
    return out


def _answer_prompt(spec: RunSpec, password: str, option: str, prompt: str) -> None:
    """A password given: ansible-playbook is told to ask for it (``option``) and the runner
    answers ``prompt`` with it."""
    if password:
        spec.args.append(option)
        spec.passwords[prompt] = password


def _inject(spec: RunSpec, ctype: dict, inputs: dict, prompted: dict, workdir: str, n: int) -> None:
    """One credential into the run: machine and vault natively, everything else by injectors.
    A credential missing a required input stops the job here (AWX accepted it at creation)."""
    missing = ci.missing_required(ctype, inputs)
    if missing:
        raise JobError(f"Credential of type {ctype['name']!r} is missing required inputs: {', '.join(missing)}.")
    kind = ctype["kind"]
    # the literal placeholder "ASK" is no secret; the prompted values are added below
    secrets = [v for k, v in inputs.items()
               if isinstance(v, str) and v and v != "ASK" and k in ci.secret_fields(ctype)]
    spec.secrets += [s for s in secrets if s not in spec.secrets]

    def value(field: str, prompt_name: str) -> str:
        raw = inputs.get(field) or ""
        return prompted.get(prompt_name, "") if raw == "ASK" else raw

    if kind == "ssh":
        if inputs.get("username"):
            spec.args += ["-u", inputs["username"]]
        password = value("password", "ssh_password")
        _answer_prompt(spec, password, "--ask-pass", SSH_PROMPT)
        if inputs.get("ssh_key_data"):
            spec.ssh_key = inputs["ssh_key_data"]
            spec.ssh_key_unlock = value("ssh_key_unlock", "ssh_key_unlock")
        for name, option in (("become_method", "--become-method"), ("become_username", "--become-user")):
            if inputs.get(name):
                spec.args += [option, inputs[name]]
        become = value("become_password", "become_password")
        _answer_prompt(spec, become, "--ask-become-pass", BECOME_PROMPT)
        spec.secrets += [p for p in (password, become, spec.ssh_key_unlock) if p and p not in spec.secrets]
        return
    if kind == "vault":
        vault_id = inputs.get("vault_id") or ""
        password = value("vault_password", f"vault_password.{vault_id}" if vault_id else "vault_password")
        name = f"vault-{n}"
        spec.files[name] = password
        spec.args += ["--vault-id", f"{vault_id + '@' if vault_id else ''}{{run_dir}}/{name}"]
        spec.secrets.append(password)
        return
    rendered = render_injectors(ctype, inputs, workdir)
    spec.envvars.update({k: str(v) for k, v in (rendered.get("env") or {}).items()})
    spec.extravars.update(rendered.get("extra_vars") or {})


def prepare(ctx, job: dict) -> RunSpec:
    store = ctx.store
    project = store.get("projects", job["project"]) if job.get("project") else None
    if project is None:
        raise JobError("Job Template Project is missing or undefined.")
    inventory = store.get("inventories", job["inventory"]) if job.get("inventory") else None
    if inventory is None:
        raise JobError("Job Template Inventory is missing or undefined.")
    dep = job.get("dependency_update")
    if dep and q.status_of(store, "project_updates", dep) != "successful":
        raise JobError(f"Previous Task Failed: {{\"job_type\": \"project_update\", \"job_name\": "
                       f"\"{project['name']}\", \"job_id\": \"{dep}\"}}")
    for upd in _inventory_deps(job):
        if q.status_of(store, "inventory_updates", upd) != "successful":
            raise JobError(f"Previous Task Failed: {{\"job_type\": \"inventory_update\", \"job_id\": \"{upd}\"}}")
    root = project_dir(ctx, project)
    if not branch_checkout.overrides(project, job.get("scm_branch") or "") \
            and confined(root, job.get("playbook") or "") is None:
        # checked again here: a sync or an edit of the folder may have turned the playbook into a
        # link that leaves the project since the template was saved
        raise JobError(f"Playbook {job.get('playbook')!r} is not a file inside the project.")
    script = script_data(ctx, inventory, hostvars=True, towervars=True)
    inv, host_ids = yaml_inventory(script)
    extravars = parse_vars(job.get("extra_vars") or "")
    secret_vars = json.loads(ctx.vault.decrypt(job["secret_vars"])) if job.get("secret_vars") else {}
    extravars.update(secret_vars)
    prompted = json.loads(ctx.vault.decrypt(job["credential_passwords"])) if job.get("credential_passwords") else {}
    workdir = tempfile.mkdtemp(prefix=f"job-{job['id']}-", dir=str(Path(ctx.settings.data_dir) / "runs"))
    try:
        return _spec(ctx, job, project, root, workdir, inv, host_ids, extravars, secret_vars, prompted)
    except JobError:
        shutil.rmtree(workdir, ignore_errors=True)      # nothing of a job that never ran stays behind
        raise


def _branch_root(ctx, job: dict, project: dict, root: Path, workdir: str) -> tuple[Path, str]:
    """The folder the job runs in and the commit it runs: the project's checkout, or (AWX's
    ``scm_branch`` override) a private checkout of the job's branch in its run folder."""
    branch = job.get("scm_branch") or ""
    if not branch_checkout.overrides(project, branch):
        return root, project.get("scm_revision") or ""
    inputs = project_update.credential_inputs(ctx, project.get("credential"))
    url, url_user, url_password = project_update.split_userinfo(project.get("scm_url") or "")
    env = project_update.git_login_env(inputs.get("username") or url_user, inputs.get("password") or url_password)
    dest = Path(workdir) / "project"
    commit = branch_checkout.checkout(ctx, project, branch, dest, url, env)
    if confined(dest, job.get("playbook") or "") is None:
        raise JobError(f"Playbook {job.get('playbook')!r} is not a file in branch {branch!r} of the project.")
    return dest, commit


def _spec(ctx, job: dict, project: dict, root: Path, workdir: str, inv: dict, host_ids: dict, extravars: dict,
          secret_vars: dict, prompted: dict) -> RunSpec:
    root, revision = _branch_root(ctx, job, project, root, workdir)
    spec = RunSpec(
        ident=f"job-{job['id']}", playbook=job["playbook"], project_dir=str(root),
        inventory=inv, extravars=extravars, limit=job.get("limit") or "", job_tags=job.get("job_tags") or "",
        skip_tags=job.get("skip_tags") or "", forks=int(job.get("forks") or 0),
        verbosity=int(job.get("verbosity") or 0), check=job.get("job_type") == "check",
        diff=bool(job.get("diff_mode")), become=bool(job.get("become_enabled")),
        start_at_task=job.get("start_at_task") or "", force_handlers=bool(job.get("force_handlers")),
        timeout=int(job.get("timeout") or 0),
        # the project's galaxy content (installed by its last successful update) comes first
        envvars={"JOB_ID": str(job["id"]), **galaxy.job_env(ctx, project, collections_path())},
        secrets=[v for v in list(secret_vars.values()) + list(prompted.values()) if isinstance(v, str) and v],
        meta={"host_ids": host_ids, "cleanup": [workdir], "scm_revision": revision,
              "carry": galaxy.job_content(ctx, project)})     # travels to a worker with the job
    for n, (_cred, ctype, inputs) in enumerate(_credentials(ctx, job["id"], spec)):
        _inject(spec, ctype, inputs, prompted, workdir, n)
    jt = ctx.store.get("job_templates", job["job_template"]) if job.get("job_template") else None
    spec.safe_vars = safe_vars(ctx.settings.ALLOW_JINJA_IN_EXTRA_VARS,
                               parse_vars((jt or {}).get("extra_vars") or ""), spec.extravars)
    environment.apply(ctx, job, spec)
    return spec


def safe_vars(mode: str, template_vars: dict, extravars: dict) -> dict:
    """The extra vars ansible may render Jinja in, per ``ALLOW_JINJA_IN_EXTRA_VARS`` (AWX):
    ``never`` none, ``always`` all, ``template`` the job template's own (key, value) pairs -
    only users who may edit the template set those; anything from a launch, a survey, a
    schedule or a credential input stays text (the executor writes it ``!unsafe``)."""
    if mode == "always":
        return dict(extravars)
    if mode == "template":
        return dict(template_vars)
    return {}


_COUNTERS = ("changed", "dark", "failures", "ok", "processed", "skipped", "ignored", "rescued")


def host_summaries(stats: dict, job_id: int, host_ids: dict[str, int], now: str) -> list[dict]:
    """``playbook_on_stats`` event data -> one job_host_summary row per host."""
    names: set[str] = set()
    for key in _COUNTERS:
        names.update((stats.get(key) or {}).keys())
    rows = []
    for name in sorted(names):
        counts = {key: int((stats.get(key) or {}).get(name, 0)) for key in _COUNTERS}
        rows.append({"job": job_id, "host": host_ids.get(name), "constructed_host": None, "host_name": name,
                     **counts, "failed": bool(counts["failures"] or counts["dark"]),
                     "created": now, "modified": now})
    return rows


def forget_launch_passwords(ctx, resource: str, pk: int) -> None:
    """``Registry.job_end_hooks``: whichever way a job ended (run, failed before running,
    canceled while pending, reaped at start-up, its worker lost), the credential passwords
    typed at its launch are forgotten; :func:`finish` blanks them with the final fields too."""
    if resource == "job":
        q.forget_credential_passwords(ctx.store, pk)


def finish(ctx, job: dict, result, run_data: dict) -> dict:
    """Store host summaries and artifacts; forget the credential passwords given at launch (the
    survey's password answers stay encrypted in ``secret_vars``: a relaunch replays them, as
    AWX's launch config keeps them)."""
    spec_meta = run_data.get("meta", {})
    for path in spec_meta.get("cleanup", []):
        shutil.rmtree(path, ignore_errors=True)
    rows = host_summaries(run_data.get("stats") or {}, job["id"], spec_meta.get("host_ids", {}), now_iso())
    q.store_host_summaries(ctx.store, job["id"], rows)
    out = {"artifacts": run_data.get("artifacts") or {}, "credential_passwords": "",
           "host_counts": count_statuses(rows)}     # lists show it without reading every host's row
    if spec_meta.get("scm_revision"):
        out["scm_revision"] = spec_meta["scm_revision"]      # the commit this job really ran
    return out


def impact(ctx, job: dict) -> int:
    """AWX's task impact: min(forks, hosts) + 1 (forks 0 means ansible's default of 5)."""
    forks = int(job.get("forks") or 0) or 5
    hosts = q.host_count(ctx.store, job.get("inventory"))
    return min(forks, max(hosts, 1)) + 1


def blocked(ctx, job: dict) -> bool:
    """Waits for its project update, and for a running job of the same template unless the
    template allows simultaneous runs."""
    dep = job.get("dependency_update")
    if dep and q.is_active(ctx.store, "project_updates", dep):
        return True
    if any(q.is_active(ctx.store, "inventory_updates", upd) for upd in _inventory_deps(job)):
        return True
    if not job.get("allow_simultaneous") and job.get("job_template"):
        return q.template_running(ctx.store, job["job_template"], job["id"])
    return False

