"""What a project folder holds: playbooks and inventory files (AWX's discovery rules, cheaply:
a text scan, no YAML parse of every file).

Confinement: a file is offered only when it is a regular file whose real path (symlinks
resolved) stays inside the project folder, so a link to ``/etc/...`` or to a FIFO or device
(which would block or never end when read) is never listed, read, or accepted as a playbook.

Also where a project's folder is (``projects_root``, ``project_dir``, ``project_files``), and
the hygiene shared by the values that reach git or ansible as argv items or paths (URL, branch,
playbook, host pattern, local and source paths): ``argument_problem``, ``scm_url_problem``,
``confined``.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..collection import playbooks_dir

_SKIP_DIRS = {".git", ".hg", ".svn", "roles", "group_vars", "host_vars", "collections", "node_modules",
              "templates", "files", "vars", "defaults", "handlers", "tasks", "meta", "__pycache__",
              "inventory_plugins", "filter_plugins", "library", "module_utils"}
_PLAY = re.compile(rb"^\s*-\s+(?:hosts|import_playbook|ansible\.builtin\.import_playbook)\s*:", re.M)
_PLAY_KEY = re.compile(rb"^\s+(?:hosts|import_playbook)\s*:", re.M)
_MAX_BYTES = 1024 * 1024


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(value: str) -> bool:
    """True when ``value`` holds a NUL, a line break or another control character."""
    return bool(_CONTROL.search(value))


def argument_problem(value: str) -> str | None:
    """Why ``value`` may not become one argv item of git/ansible, or None when it may.

    Values are always passed as separate argv items (never through a shell), but one that
    begins with ``-`` may still be parsed as an option where a positional is expected, and
    control characters (NUL, line breaks) have no legitimate use in a URL, branch, path,
    playbook name or host pattern."""
    if has_control(value):
        return "Must not contain control characters or line breaks."
    if value.startswith("-"):
        return "Must not begin with '-'."
    return None


def confined(root: Path, relative: str) -> Path | None:
    """The real path of ``relative`` under ``root`` when it is ``root`` or inside it (symlinks
    resolved), else None. ``relative`` must be relative, without NUL; it need not exist."""
    if not relative or "\x00" in relative or Path(relative).is_absolute():
        return None
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(real_root / relative))
    return target if target == real_root or real_root in target.parents else None


def _walk(root: Path):
    """Regular files under ``root`` whose real path is inside it (symlinked folders are not
    entered; symlinked files count only when they point inside)."""
    real_root = Path(os.path.realpath(root))
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() and real_root not in Path(os.path.realpath(path)).parents:
                continue
            if path.is_file():   # follows an inside link; FIFOs, sockets, devices are left out
                yield path


def _is_playbook(path: Path) -> bool:
    if path.suffix not in (".yml", ".yaml") or path.stat().st_size > _MAX_BYTES:
        return False
    data = path.read_bytes()
    return bool(_PLAY.search(data) or (data.lstrip().startswith(b"-") and _PLAY_KEY.search(data)))


def find_playbooks(root: Path) -> list[str]:
    """Relative paths of the playbooks under ``root``, sorted; only confined regular files."""
    if not root.is_dir():
        return []
    return [str(p.relative_to(root)) for p in _walk(root) if _is_playbook(p)]


def find_inventories(root: Path) -> list[str]:
    """Relative paths of files that can serve as inventories (not playbooks, not vars);
    only confined regular files."""
    if not root.is_dir():
        return []
    out = []
    for p in _walk(root):
        if p.suffix in (".yml", ".yaml", ".ini", ".json", ".cfg") or p.name in ("hosts", "inventory"):
            if p.suffix == ".cfg" or p.name in ("galaxy.yml", "requirements.yml"):
                continue
            if not _is_playbook(p):
                out.append(str(p.relative_to(root)))
    return out


def projects_root(ctx) -> Path:
    return Path(ctx.settings.data_dir) / "projects"


def project_dir(ctx, row: dict) -> Path:
    """Where a project's files are: the collection for the managed project, else under the
    projects root (the path was confined when it was validated)."""
    if row.get("managed"):
        return playbooks_dir()
    return projects_root(ctx) / (row.get("local_path") or f"_{row['id']}")


def project_files(ctx, row: dict, kind: str) -> list[str]:
    """A project's playbooks (``kind`` "playbook") or inventory files ("inventory"): a manual
    project's folder scanned now, a git project's lists from its last successful update."""
    if row.get("scm_type"):
        try:
            return list(json.loads(row.get(f"{kind}_files") or "[]"))
        except ValueError:
            return []
    scan = find_playbooks if kind == "playbook" else find_inventories
    return scan(project_dir(ctx, row))


def scm_url_problem(url: str) -> str | None:
    """Why git could read ``url`` (or a part of it) as an option, or None.

    git gets the URL as one argv item and hands its user and host to ssh; a part beginning
    with ``-`` (``ssh://-oProxyCommand=...``, ``-u...``, ``--upload-pack=...``,
    ``user@-host:path``) would be an option there."""
    problem = argument_problem(url)
    if problem:
        return problem
    if "://" in url:
        authority = url.split("://", 1)[1].split("/", 1)[0]
        parts = authority.rsplit("@", 1)
        if len(parts) == 2 and ":" in parts[0]:
            # it would be stored and shown in clear: secrets belong in a credential
            return "Passwords are not allowed in the SCM URL; use a Source Control credential."
        path = url.split("://", 1)[1][len(authority):].lstrip("/")
    else:   # scp-like user@host:path
        authority, _, path = url.partition(":")
        parts = authority.rsplit("@", 1)
    if any(part.startswith("-") for part in [*parts, path]):
        return "Invalid SCM URL: no part of it may begin with '-'."
    return None
