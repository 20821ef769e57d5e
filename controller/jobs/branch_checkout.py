"""A job's own checkout of another branch (AWX's ``scm_branch`` override).

When a git project allows branch override and a job (from its template or its launch) names a
branch, tag or commit other than the project's, the job must not run the project's shared
checkout: it gets a private copy of the project's repository with that ref checked out.  The
refs come from the project's last update (the git module fetches every branch and tag); a ref
it does not hold is fetched from the project's remote (anonymously, or with the http(s)
login of the URL / credential - an SSH key is not available here).  The copy lives in the
job's private run folder and is removed with it.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..services.project_files import argument_problem, project_dir
from .spec import JobError

_GIT_TIMEOUT = 300


def overrides(project: dict, branch: str) -> bool:
    """Does a job with ``branch`` need its own checkout of ``project``?"""
    return bool(branch) and project.get("scm_type") == "git" and bool(project.get("allow_override")) \
        and branch != (project.get("scm_branch") or "")


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd), "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, env={**base, **(env or {})}, capture_output=True,
                              text=True, timeout=_GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise JobError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise JobError(f"git {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def _commit_of(repo: Path, ref: str) -> str | None:
    for candidate in (f"refs/remotes/origin/{ref}", f"refs/tags/{ref}", ref):
        try:
            return _git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        except JobError:
            continue
    return None


def checkout(ctx, project: dict, branch: str, dest: Path, remote: str, env: dict[str, str]) -> str:
    """Check ``branch`` of ``project`` out into ``dest`` (a new folder); returns the commit.
    ``remote`` is the project's URL without its login, ``env`` the git login environment for
    it.  Raises JobError (the job ends ``error`` with the reason)."""
    problem = argument_problem(branch)
    if problem:
        raise JobError(f"Invalid scm_branch: {problem}")
    source = project_dir(ctx, project)
    if not (source / ".git").exists():
        raise JobError(f"Project {project['name']!r} has no checkout yet: update it first.")
    dest.mkdir(parents=True)
    _git(dest, "init", "-q")
    _git(dest, "fetch", "-q", "--no-recurse-submodules", "--", str(source),
         "+refs/remotes/origin/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
    commit = _commit_of(dest, branch)
    if commit is None:
        # a branch (or commit) the last project update did not bring: ask the remote for it
        _git(dest, "fetch", "-q", "--no-recurse-submodules", "--", remote, branch, env=env)
        commit = _commit_of(dest, "FETCH_HEAD")
    if commit is None:
        raise JobError(f"Branch or commit {branch!r} not found in the project's repository.")
    _git(dest, "checkout", "-q", "--detach", commit)
    return commit


__all__ = ["overrides", "checkout"]
