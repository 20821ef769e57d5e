"""Project updates: queued by ``start_update``, run by the collection's
``turret.controller.project_update`` playbook (ansible.builtin.git) through the executor."""
from __future__ import annotations

import sys
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from .. import access, lookups
from ..collection import collections_path, playbooks_dir
from ..errors import MethodNotAllowed
from ..services import galaxy
from ..services.project_files import argument_problem, find_inventories, find_playbooks, project_dir, scm_url_problem
from ..store import jobs as q
from ..store import now_iso
from . import control
from .spec import JobError, RunSpec

# the most an archive project may download, and unpack to (AWX sets no bound; a project
# folder of more is no playbook repository)
ARCHIVE_MAX_BYTES = 200 * 1024 * 1024

_COPIED = ("scm_type", "scm_url", "scm_branch", "scm_refspec", "scm_clean", "scm_track_submodules",
           "scm_delete_on_update", "credential", "timeout", "local_path")


def start_update(ctx, project: dict, launch_type: str = "manual", body: dict | None = None,
                 extra_fields: dict | None = None) -> dict:
    """Queue an update of ``project`` (a row); returns the new project_update row.  The
    project's ``UnifiedJob.start``: an update takes no prompts (``body`` is ignored);
    ``extra_fields`` are stored over the defaults (``launched_by_*`` of a schedule ...)."""
    now = now_iso()
    values = {f: project.get(f) for f in _COPIED}
    values.update({
        "name": project["name"], "description": project.get("description", ""), "project": project["id"],
        "unified_job_template": project["id"], "launch_type": launch_type, "status": "pending",
        "job_type": "check", "job_tags": "", "scm_revision": "", "failed": False, "elapsed": 0.0,
        "job_args": "", "job_cwd": "", "job_env": {}, "job_explanation": "", "execution_node": "",
        "controller_node": "", "result_traceback": "", "event_processing_finished": False,
        "launched_by_id": ctx.user_id, "launched_by_type": "user" if ctx.user_id else "",
        "cancel_flag": False, "created": now, "modified": now, "created_by": ctx.user_id,
        "modified_by": ctx.user_id, **(extra_fields or {}),
    })
    pk = control.create_job(ctx, "project_update", values)
    if ctx.jobs is not None:
        ctx.jobs.notify()
    return ctx.store.get("project_updates", pk)


def blocked(ctx, update: dict) -> bool:
    """Waits while another update of the same project runs: two would share one checkout folder
    (a second ``git clone`` into it fails)."""
    return q.sibling_running(ctx.store, "project_updates", "project", update["project"], update["id"])


def request_update(ctx, project: dict) -> dict:
    """A user asks for an update: only SCM projects (405 otherwise), with update_role (403)."""
    if not project.get("scm_type"):
        raise MethodNotAllowed("POST")
    access.require(access.holds(ctx, "project", project["id"], "update_role"))
    return start_update(ctx, project, launch_type="manual")


def credential_inputs(ctx, cred_id: int | None) -> dict:
    """The decrypted inputs of a project's SCM credential ({} when it has none), input sources
    looked up (a failed lookup is a JobError)."""
    return _looked_up(ctx, cred_id)[0]


def _looked_up(ctx, cred_id: int | None) -> tuple[dict, list[str]]:
    """(inputs, the values external input sources gave) of the SCM credential ``cred_id``."""
    row = ctx.store.get("credentials", cred_id) if cred_id and ctx.registry.get("credential") else None
    if row is None:
        return {}, []
    try:
        return lookups.credential_inputs(ctx, row, ctx.store.get("credential_types", row["credential_type"]) or {})
    except lookups.LookupFailed as exc:
        raise JobError(str(exc)) from None


def split_userinfo(url: str) -> tuple[str, str, str]:
    """(URL without user information, username, password) of an http(s) URL; other URLs are
    returned as they are (``ssh://git@host`` names an account, not a secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" not in parts.netloc:
        return url, "", ""
    host = parts.netloc.rsplit("@", 1)[1]
    return (urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)),
            unquote(parts.username or ""), unquote(parts.password or ""))


# git asks this credential helper (configured through the environment, so it is in no file and
# on no command line) for http(s) logins; it prints the values of two variables of the run's
# environment, never argv, and ignores git's "store" and "erase" calls
_CREDENTIAL_HELPER = ('!f() { if test "$1" = get; then printf \'username=%s\\npassword=%s\\n\' '
                      '"$TURRET_SCM_USERNAME" "$TURRET_SCM_PASSWORD"; fi; }; f')


def git_login_env(username: str, password: str) -> dict[str, str]:
    """Environment that lets git log in to an http(s) remote with ``username``/``password``
    without the secret appearing in the remote URL (kept in ``.git/config``), in any argv
    (readable by every user in ``/proc``) or in a file."""
    if not (username or password):
        return {}
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "credential.helper",
            "GIT_CONFIG_VALUE_0": _CREDENTIAL_HELPER,
            "TURRET_SCM_USERNAME": username, "TURRET_SCM_PASSWORD": password}


def update_info(ctx, project: dict) -> dict:
    """The ``GET /projects/N/update/`` body: whether this user may update it now."""
    return {"can_update": bool(project.get("scm_type")) and access.holds(ctx, "project", project["id"], "update_role")}


def _check_scm_values(row: dict, url: str) -> None:
    """The stored URL (``url``: its http(s) login already split off, as git gets it), branch and
    refspec checked again before they reach git: a row saved before these checks existed (or
    written around the API) must not become a git option."""
    for name, problem in (("scm_url", scm_url_problem(url)),
                          ("scm_branch", argument_problem(row.get("scm_branch") or "")),
                          ("scm_refspec", argument_problem(row.get("scm_refspec") or ""))):
        if problem:
            raise JobError(f"Invalid {name}: {problem}")


def prepare(ctx, row: dict) -> RunSpec:
    project = ctx.store.get("projects", row["project"])
    if project is None:
        raise JobError("The project of this update no longer exists.")
    if not row["scm_type"]:
        raise JobError("Manual projects cannot be updated.")
    inputs, fetched = _looked_up(ctx, row.get("credential"))
    # a login written into the URL itself is used like the credential's, never passed on in it
    url, url_user, url_password = split_userinfo(row["scm_url"] or "")
    _check_scm_values(row, url)
    username, password = inputs.get("username") or url_user, inputs.get("password") or url_password
    secrets = [s for s in (password, quote(password or "", safe=""), inputs.get("ssh_key_data"),
                           inputs.get("ssh_key_unlock"), *fetched) if s]
    extravars = {
        "project_path": str(project_dir(ctx, project)),
        "scm_url": url,
        "scm_branch": row["scm_branch"] or "",
        "scm_refspec": row["scm_refspec"] or "",
        "scm_clean": bool(row["scm_clean"]),
        "scm_delete_on_update": bool(row["scm_delete_on_update"]),
        "scm_track_submodules": bool(row["scm_track_submodules"]),
        "scm_accept_hostkey": True,
        "scm_type": row["scm_type"],
        "archive_max_bytes": ARCHIVE_MAX_BYTES,
    }
    # galaxy content from the organization's galaxy servers, staged for this update (AWX)
    galaxy_env, galaxy_secrets = galaxy.server_env(ctx, project)
    extravars["galaxy_install_path"] = ""
    if galaxy_env:
        staged = galaxy.staging_dir(ctx, project["id"], row["id"])
        (staged / "tmp").mkdir(parents=True, exist_ok=True)
        extravars["galaxy_install_path"] = str(staged)
    secrets += galaxy_secrets
    return RunSpec(
        ident=f"project_update-{row['id']}", playbook="turret.controller.project_update",
        project_dir=str(playbooks_dir()),
        inventory={"all": {"hosts": {"localhost": {"ansible_connection": "local",
                                                   "ansible_python_interpreter": sys.executable}}}},
        extravars=extravars, envvars={"ANSIBLE_COLLECTIONS_PATH": collections_path(), "GIT_TERMINAL_PROMPT": "0",
                                      **git_login_env(username, password), **galaxy_env},
        # an SSH key goes to runner's ssh-agent through a fifo: never a file left on disk
        ssh_key=inputs.get("ssh_key_data") or None, ssh_key_unlock=inputs.get("ssh_key_unlock") or "",
        timeout=int(row.get("timeout") or 0), secrets=secrets)


def finish(ctx, row: dict, result, run_data: dict) -> dict:
    """On success: record the revision and what the checkout holds, and make the galaxy content
    it installed the project's (a failed update leaves the project's content as it was)."""
    if result.status != "successful":
        galaxy.discard(ctx, row["project"], row["id"])
        return {}
    galaxy.promote(ctx, row["project"], row["id"])
    revision = str(run_data["artifacts"].get("scm_revision") or "")
    project = ctx.store.get("projects", row["project"])
    if project is None:
        return {"scm_revision": revision}
    path = project_dir(ctx, project)
    with ctx.store.transaction():
        ctx.store.update("projects", project["id"], {
            "scm_revision": revision, "playbook_files": find_playbooks(path),
            "inventory_files": find_inventories(path)})
    return {"scm_revision": revision}

