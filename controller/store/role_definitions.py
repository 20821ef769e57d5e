"""SQL of AWX's newer RBAC API: role definitions and user/team role assignments.

One store, two views: a grant is a row of ``role_members`` (a user holds a role) or an explicit
``role_parents`` row (a team's member role is a parent of the role), whichever API made it.
``role_user_assignments`` / ``role_team_assignments`` are the assignment view of those grants:
database triggers add an assignment row whenever a grant appears (tagged with the managed role
definition of that role) and remove it whenever the grant goes, so grants made through
``/roles/N/users/`` show as assignments and assignments deleted through ``/roles/`` vanish,
whatever code path changed them (object or user deletion included).  An assignment created
through the new API inserts its row first (carrying its own role definition, e.g. a custom one)
and then makes the grant: the trigger's ``INSERT OR IGNORE`` then finds the row already there.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Store

# the assignment rows were last brought in line with the grants by this version of the triggers
_META_KEY = "role_assignments_synced"
VERSION = "1"
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_DEF_JOIN = "JOIN role_definitions d ON d.resource = r.content_type AND d.role_field = r.role_field AND d.managed = 1"
_TEAM_MEMBER = "t.content_type = 'team' AND t.role_field = 'member_role'"

_USER_ROW = (f'INSERT OR IGNORE INTO role_user_assignments (created, modified, role_definition, "user",'
             f" content_type, object_id, role, resource)"
             f" SELECT {_NOW}, {_NOW}, d.id, {{user}}, d.content_type, CAST(r.object_id AS TEXT), r.id,"
             f" r.content_type FROM roles r {_DEF_JOIN}")
_TEAM_ROW = (f"INSERT OR IGNORE INTO role_team_assignments (created, modified, role_definition, team,"
             f" content_type, object_id, role, resource)"
             f" SELECT {_NOW}, {_NOW}, d.id, t.object_id, d.content_type, CAST(r.object_id AS TEXT), r.id,"
             f" r.content_type FROM roles r {_DEF_JOIN}")

_TRIGGERS = {
    "turret_rbac_user_grant":
        "AFTER INSERT ON role_members BEGIN "
        + _USER_ROW.format(user="NEW.user_id") + " WHERE r.id = NEW.role_id; END",
    "turret_rbac_user_revoke":
        'AFTER DELETE ON role_members BEGIN DELETE FROM role_user_assignments'
        ' WHERE role = OLD.role_id AND "user" = OLD.user_id; END',
    "turret_rbac_team_grant":
        "AFTER INSERT ON role_parents WHEN NEW.implicit = 0 BEGIN "
        + _TEAM_ROW + f" JOIN roles t ON t.id = NEW.parent_id AND {_TEAM_MEMBER} WHERE r.id = NEW.role_id; END",
    "turret_rbac_team_revoke":
        "AFTER DELETE ON role_parents WHEN OLD.implicit = 0 BEGIN DELETE FROM role_team_assignments"
        " WHERE role = OLD.role_id AND team IN (SELECT t.object_id FROM roles t"
        f" WHERE t.id = OLD.parent_id AND {_TEAM_MEMBER}); END",
}


def install(store: Store, definitions_changed: bool) -> bool:
    """Unique keys and the grant triggers (rebuilt on every start, so an upgrade that changes
    them takes effect), then bring the assignment rows in line with the grants when they may
    be out of line: a database from before the triggers (or from before this version of
    them), or managed definitions that were just added, changed or removed.  Otherwise the
    triggers have kept them in line, and a start reads none of the grant tables (on a large
    database that is most of the file).  Returns whether it re-synced."""
    with store.transaction():
        store.execute('CREATE UNIQUE INDEX IF NOT EXISTS "turret_rua_grant" ON role_user_assignments (role, "user")')
        store.execute('CREATE UNIQUE INDEX IF NOT EXISTS "turret_rta_grant" ON role_team_assignments (role, team)')
        store.execute('CREATE UNIQUE INDEX IF NOT EXISTS "turret_rd_name" ON role_definitions (name)')
        for name, body in _TRIGGERS.items():
            store.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            store.execute(f'CREATE TRIGGER "{name}" {body}')
        if not definitions_changed and store.scalar("SELECT value FROM meta WHERE key = ?", (_META_KEY,)) == VERSION:
            return False
        store.execute("DELETE FROM role_user_assignments WHERE NOT EXISTS (SELECT 1 FROM role_members m"
                      ' WHERE m.role_id = role_user_assignments.role AND m.user_id = role_user_assignments."user")')
        store.execute("DELETE FROM role_team_assignments WHERE NOT EXISTS (SELECT 1 FROM role_parents p"
                      " JOIN roles t ON t.id = p.parent_id AND t.content_type = 'team'"
                      " AND t.role_field = 'member_role' WHERE p.role_id = role_team_assignments.role"
                      " AND p.implicit = 0 AND t.object_id = role_team_assignments.team)")
        store.execute(_USER_ROW.format(user="m.user_id") + " JOIN role_members m ON m.role_id = r.id")
        store.execute(_TEAM_ROW + " JOIN role_parents p ON p.role_id = r.id AND p.implicit = 0"
                      f" JOIN roles t ON t.id = p.parent_id AND {_TEAM_MEMBER}")
        store.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_META_KEY, VERSION))
    return True


def managed_by_role(store: Store) -> dict[tuple[str, str], dict]:
    """``{(resource, role_field): row}`` of the stored managed role definitions."""
    return {(r["resource"], r["role_field"]): dict(r)
            for r in store.query("SELECT * FROM role_definitions WHERE managed = 1")}


def definition_named(store: Store, name: str) -> dict | None:
    return store.one_dict("SELECT * FROM role_definitions WHERE name = ?", (name,))


def user_assignment_of(store: Store, role: int, user: int) -> dict | None:
    """The assignment row of a user's direct grant of ``role`` (None when not granted)."""
    return store.one_dict('SELECT * FROM role_user_assignments WHERE role = ? AND "user" = ?', (role, user))


def team_assignment_of(store: Store, role: int, team: int) -> dict | None:
    return store.one_dict("SELECT * FROM role_team_assignments WHERE role = ? AND team = ?", (role, team))


def assignments_of(store: Store, definition: int) -> list[dict]:
    """``[{kind: "user"|"team", role, actor}]``: every grant made through a role definition."""
    rows = store.query('SELECT \'user\' AS kind, role, "user" AS actor FROM role_user_assignments'
                       " WHERE role_definition = ? UNION ALL SELECT 'team', role, team"
                       " FROM role_team_assignments WHERE role_definition = ?", (definition, definition))
    return [dict(r) for r in rows]


def visible_sql(roles_visible: tuple[str, list[Any]], user_id: int | None) -> tuple[str, list]:
    """Assignments (a WHERE fragment) whose role's object is visible (``roles_visible`` is a
    WHERE over ``roles``), plus the requesting user's own assignments."""
    return (f'role IN (SELECT id FROM roles WHERE {roles_visible[0]}) OR "user" = ?',
            [*roles_visible[1], user_id or 0]) if user_id is not None else \
        (f"role IN (SELECT id FROM roles WHERE {roles_visible[0]})", list(roles_visible[1]))


def team_visible_sql(roles_visible: tuple[str, list[Any]]) -> tuple[str, list]:
    return f"role IN (SELECT id FROM roles WHERE {roles_visible[0]})", list(roles_visible[1])
