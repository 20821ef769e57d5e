"""SQL of the role-ancestor table (AWX's ``main_rbac_role_ancestors``).

``role_ancestors`` holds one row per (descendant, ancestor) pair of the role graph: holders of
``ancestor`` hold ``descendant``.  Every role is its own ancestor, and ``role_parents`` edges
(declared ancestry such as organization admin ⊃ team admin ⊃ team read, and grants of a role
to a team's member role) are closed transitively.  The descendant's ``content_type``,
``object_id`` and ``role_field`` are copied into the row so "the objects of one type on which a
user holds one role" is one index range per role the user holds (``ancestor``), never a scan
of every role of that type.

Kept in step with ``roles`` and ``role_parents``:

* inserts, whoever makes them, by triggers: a new role gets its reflexive row; a new edge
  ``parent -> role`` adds ancestors(parent) x descendants(role);
* a deleted role loses its rows by trigger;
* a deleted edge cannot be undone pair by pair (another path may still imply a pair): a
  trigger notes its child role in ``role_ancestors_stale``, and :func:`refresh_stale` (called
  by :mod:`controller.store.rbac` right after it deletes edges, in the same transaction, and
  on every start for edges anything else deleted) computes again the ancestors of every
  descendant of the noted roles from ``role_parents``.

:func:`install` runs on every start: it creates the tables, index and triggers, rebuilds the
whole table when it is new or was built by another version of this code, and refreshes what
is stale.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from . import Store

# Bump when the table's meaning or the triggers change: the next start rebuilds it.
VERSION = "1"
_META_KEY = "role_ancestors_version"
_COLUMNS = "descendant, ancestor, content_type, object_id, role_field"

_TABLE = ("CREATE TABLE IF NOT EXISTS role_ancestors (descendant INTEGER NOT NULL, ancestor INTEGER NOT NULL,"
          " content_type TEXT, object_id INTEGER, role_field TEXT, PRIMARY KEY (descendant, ancestor))"
          " WITHOUT ROWID")
# Visibility and role_level: "objects of content_type whose role_field descends from a held
# role" is a range of this index per held role (the PK, descendant, rides along in it).
_INDEX = ('CREATE INDEX IF NOT EXISTS "role_ancestors_by_ancestor"'
          " ON role_ancestors (ancestor, content_type, role_field, object_id)")
_STALE = "CREATE TABLE IF NOT EXISTS role_ancestors_stale (role_id INTEGER PRIMARY KEY)"

_TRIGGERS = {
    "turret_role_ancestors_role_added":
        f"AFTER INSERT ON roles BEGIN INSERT OR IGNORE INTO role_ancestors ({_COLUMNS})"
        " VALUES (NEW.id, NEW.id, NEW.content_type, NEW.object_id, NEW.role_field); END",
    "turret_role_ancestors_edge_added":
        f"AFTER INSERT ON role_parents BEGIN INSERT OR IGNORE INTO role_ancestors ({_COLUMNS})"
        " SELECT d.descendant, a.ancestor, d.content_type, d.object_id, d.role_field"
        " FROM role_ancestors a JOIN role_ancestors d"
        " WHERE a.descendant = NEW.parent_id AND d.ancestor = NEW.role_id; END",
    "turret_role_ancestors_role_removed":
        "AFTER DELETE ON roles BEGIN DELETE FROM role_ancestors"
        " WHERE descendant = OLD.id OR ancestor = OLD.id; END",
    "turret_role_ancestors_edge_removed":
        "AFTER DELETE ON role_parents BEGIN INSERT OR IGNORE INTO role_ancestors_stale (role_id)"
        " VALUES (OLD.role_id); END",
}

# (descendant, ancestor) pairs of the roles listed in the JSON array parameter, walked up
# role_parents; UNION (not UNION ALL) ends the walk on cycles (teams granted each other).
_ANCESTRY_OF = ("WITH RECURSIVE up(d, a) AS (SELECT value, value FROM json_each(?)"
                " UNION SELECT up.d, rp.parent_id FROM role_parents rp JOIN up ON rp.role_id = up.a)"
                f" INSERT OR IGNORE INTO role_ancestors ({_COLUMNS})"
                " SELECT up.d, up.a, r.content_type, r.object_id, r.role_field FROM up JOIN roles r ON r.id = up.d")
_ANCESTRY_OF_ALL = ("WITH RECURSIVE up(d, a) AS (SELECT id, id FROM roles"
                    " UNION SELECT up.d, rp.parent_id FROM role_parents rp JOIN up ON rp.role_id = up.a)"
                    f" INSERT OR IGNORE INTO role_ancestors ({_COLUMNS})"
                    " SELECT up.d, up.a, r.content_type, r.object_id, r.role_field FROM up JOIN roles r ON r.id = up.d")
_DESCENDANTS_OF = ("WITH RECURSIVE down(id) AS (SELECT value FROM json_each(?)"
                   " UNION SELECT rp.role_id FROM role_parents rp JOIN down ON rp.parent_id = down.id)"
                   " SELECT id FROM down")


def install(store: Store) -> bool:
    """Create the table, its index and triggers (triggers rebuilt on every start, so an
    upgrade that changes them takes effect); rebuild the rows when needed.  Returns whether
    it rebuilt."""
    with store.transaction():
        existed = store.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'role_ancestors'")
        store.execute(_TABLE)
        store.execute(_INDEX)
        store.execute(_STALE)
        for name, body in _TRIGGERS.items():
            store.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            store.execute(f'CREATE TRIGGER "{name}" {body}')
        version = store.scalar("SELECT value FROM meta WHERE key = ?", (_META_KEY,))
        if existed and version == VERSION:
            refresh_stale(store)
            return False
        rebuild(store)
        store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_META_KEY, VERSION))
    return True


def rebuild(store: Store) -> None:
    """Compute the whole table again from ``roles`` and ``role_parents``."""
    with store.transaction():
        store.execute("DELETE FROM role_ancestors")
        store.execute("DELETE FROM role_ancestors_stale")
        store.execute(_ANCESTRY_OF_ALL)


def refresh_stale(store: Store) -> None:
    """Bring up to date what deleted edges left stale (see the module's docstring); one
    transaction (joining the caller's), so no reader sees the rows half recomputed."""
    with store.transaction():
        stale = [r[0] for r in store.query("SELECT role_id FROM role_ancestors_stale")]
        if stale:
            refresh(store, stale)
            store.execute("DELETE FROM role_ancestors_stale")


def refresh(store: Store, roles: Iterable[int]) -> None:
    """After edges into ``roles`` were deleted (or roles above them): recompute the ancestors
    of ``roles`` and of everything below them.  Only pairs whose descendant is below one of
    ``roles`` can have lost their last path, so nothing else is touched."""
    seeds = sorted({int(r) for r in roles})
    if not seeds:
        return
    below = [r[0] for r in store.query(_DESCENDANTS_OF, (json.dumps(seeds),))]
    batch = json.dumps(below)
    store.execute("DELETE FROM role_ancestors WHERE descendant IN (SELECT value FROM json_each(?))", (batch,))
    store.execute(_ANCESTRY_OF, (batch,))
