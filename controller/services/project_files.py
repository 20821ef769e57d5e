"""What a project folder holds: playbooks and inventory files (AWX's discovery rules, cheaply:
a text scan, no YAML parse of every file)."""
from __future__ import annotations

import os
import re
from pathlib import Path

_SKIP_DIRS = {".git", ".hg", ".svn", "roles", "group_vars", "host_vars", "collections", "node_modules",
              "templates", "files", "vars", "defaults", "handlers", "tasks", "meta", "__pycache__",
              "inventory_plugins", "filter_plugins", "library", "module_utils"}
_PLAY = re.compile(rb"^\s*-\s+(?:hosts|import_playbook|ansible\.builtin\.import_playbook)\s*:", re.M)
_PLAY_KEY = re.compile(rb"^\s+(?:hosts|import_playbook)\s*:", re.M)
_MAX_BYTES = 1024 * 1024


def _walk(root: Path):
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _is_playbook(path: Path) -> bool:
    if path.suffix not in (".yml", ".yaml") or path.stat().st_size > _MAX_BYTES:
        return False
    data = path.read_bytes()
    return bool(_PLAY.search(data) or (data.lstrip().startswith(b"-") and _PLAY_KEY.search(data)))


def find_playbooks(root: Path) -> list[str]:
    """Relative paths of the playbooks under ``root``, sorted."""
    if not root.is_dir():
        return []
    return [str(p.relative_to(root)) for p in _walk(root) if _is_playbook(p)]


def find_inventories(root: Path) -> list[str]:
    """Relative paths of files that can serve as inventories (not playbooks, not vars)."""
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
