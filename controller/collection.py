"""Where the turret.controller collection is: the copy the wheel installs next to the
``controller`` package (``site-packages/ansible_collections/turret/controller``), or the
repository root in a checkout (the root is the collection root)."""
from __future__ import annotations

import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent
_SUBPATH = Path("ansible_collections") / "turret" / "controller"


def _is_collection(path: Path) -> bool:
    return (path / "playbooks").is_dir() and (path / "meta" / "runtime.yml").is_file()


def find_collection_root(package_dir: Path, search_path: Iterable[str]) -> Path:
    """The collection that belongs to the controller package in ``package_dir``.

    In order: ``<parent>/ansible_collections/turret/controller`` (the wheel puts it beside the
    package in site-packages; in a checkout it is the development symlink to the root), the
    checkout root itself (``<parent>`` holding galaxy.yml), then any ``search_path`` entry with
    ``ansible_collections/turret/controller`` (as ansible-core scans ``sys.path``).  The sibling
    comes first so the server always runs the playbooks of its own version.  Returns a resolved
    path; raises RuntimeError naming the places looked at when none holds the collection.
    """
    parent = package_dir.parent
    candidates = [parent / _SUBPATH, parent]
    candidates += [Path(entry or ".") / _SUBPATH for entry in search_path]
    for candidate in candidates:
        if candidate == parent and not (parent / "galaxy.yml").is_file():
            continue
        if _is_collection(candidate):
            return candidate.resolve()
    raise RuntimeError(
        f"the turret.controller collection was not found next to the controller package ({parent / _SUBPATH}), "
        f"in a checkout ({parent}) or on sys.path; reinstall the turret wheel")


@lru_cache(maxsize=1)
def collection_root() -> Path:
    """This installation's collection root (see :func:`find_collection_root`), found once."""
    return find_collection_root(_PKG, sys.path)


def collections_path_for(root: Path) -> str:
    """A value for ANSIBLE_COLLECTIONS_PATH under which the collection at ``root`` resolves as
    turret.controller: the folder holding ``ansible_collections/`` for an installed copy, the
    root itself for a checkout (its development path <root>/ansible_collections/turret/controller
    points back at the root)."""
    if root.parent.name == "turret" and root.parent.parent.name == "ansible_collections":
        return str(root.parent.parent.parent)
    return str(root)


def collections_path() -> str:
    """ANSIBLE_COLLECTIONS_PATH for the jobs this controller runs."""
    return collections_path_for(collection_root())


def playbooks_dir() -> Path:
    """The collection's playbooks folder (the built-in project's files)."""
    return collection_root() / "playbooks"
