"""SQL of the role graph.

``roles`` rows belong to one object (content_type, object_id, role_field).  ``role_parents``
says "holders of parent_id also hold role_id"; rows with implicit=1 are derived from the
declarations (admin ⊃ read, organization admin ⊃ team admin) and are rebuilt when an
object's foreign keys change, rows with implicit=0 are grants to teams (the team's
member_role becomes a parent).  ``role_members`` are direct user grants.

What a user holds is never listed: ``role_ancestors`` (:mod:`.role_ancestors`) closes
``role_parents`` transitively, so "the user holds role X" is "an ancestor of X is among the
few roles the user is a direct member of" (:data:`HELD`), one indexed look-up.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from . import role_ancestors

if TYPE_CHECKING:
    from sqlite3 import Row

    from . import Store

# The roles a user is a direct member of (a team's member_role included): a short list, the
# ancestors every other role the user holds descends from.  One parameter: the user id.
HELD = "SELECT role_id FROM role_members WHERE user_id = ?"
# Every role the user holds (directly, through teams, through ancestry); one parameter.
EFFECTIVE = f"SELECT descendant FROM role_ancestors WHERE ancestor IN ({HELD})"


class UserRoles:
    """The roles one user holds, as SQL over the few roles they are a direct member of.

    ``role in roles`` is one indexed query; the SQL builders below take it instead of a list
    of role ids.  Iterating lists every role the user holds, which can be tens of thousands
    (an organization auditor holds the read role of every object of the organization): keep
    it off request paths that run per list page."""

    def __init__(self, store: Store, user_id: int | None) -> None:
        self.store = store
        self.user_id = user_id if user_id is not None else -1   # -1: nobody (no role at all)
        self._all: set[int] | None = None

    def __contains__(self, role: object) -> bool:
        if not isinstance(role, int):
            return False
        return self.store.one(f"SELECT 1 FROM role_ancestors WHERE descendant = ? AND ancestor IN ({HELD})"
                              " LIMIT 1", (role, self.user_id)) is not None

    def __iter__(self) -> Iterator[int]:
        if self._all is None:
            self._all = effective_role_ids(self.store, self.user_id)
        return iter(self._all)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def effective_role_ids(store: Store, user_id: int) -> set[int]:
    """Every role a user holds, directly, through teams or through ancestry."""
    return {r[0] for r in store.query(EFFECTIVE, (user_id,))}


def objects_with_role_sql(content_type: str, role_field: str, user_id: int) -> tuple[str, list]:
    """SQL (an ``id IN (...)`` expression) for the objects on which a user holds a role: one
    index range of ``role_ancestors`` per role the user is a direct member of."""
    return (f"id IN (SELECT object_id FROM role_ancestors WHERE ancestor IN ({HELD})"
            " AND content_type = ? AND role_field = ?)", [user_id, content_type, role_field])


def objects_with_role_ids_sql(content_type: str, role_field: str, roles: UserRoles) -> tuple[str, list]:
    """:func:`objects_with_role_sql` for the user whose roles ``roles`` are."""
    return objects_with_role_sql(content_type, role_field, roles.user_id)


def fk_to_objects_with_roles_sql(column: str, content_type: str, role_fields: Sequence[str],
                                 roles: UserRoles) -> tuple[str, list]:
    """``column`` (a foreign key) names an object on which the user whose roles ``roles``
    are holds one of ``role_fields``."""
    marks = ",".join("?" * len(role_fields))
    return (f'"{column}" IN (SELECT object_id FROM role_ancestors WHERE ancestor IN ({HELD})'
            f" AND content_type = ? AND role_field IN ({marks}))",
            [roles.user_id, content_type, *role_fields])


def roles_held_of(store: Store, user_id: int, content_type: str) -> set[tuple[int, str]]:
    """``(object_id, role_field)`` of the roles of ``content_type`` the user holds: one index
    range per role the user is a direct member of (an organization-level question: the answer
    is as short as the user's organizations times their roles there)."""
    return {(r[0], r[1]) for r in store.query(
        f"SELECT object_id, role_field FROM role_ancestors WHERE ancestor IN ({HELD}) AND content_type = ?",
        [user_id, content_type])}


def held_among(store: Store, user_id: int, content_type: str, object_ids: Sequence[int],
               role_fields: Sequence[str]) -> set[tuple[int, str]]:
    """``(object_id, role_field)`` of the given objects' roles the user holds: one query for a
    whole page (``user_capabilities``), instead of one look-up per row and role."""
    ids = sorted({int(i) for i in object_ids})
    fields = sorted(set(role_fields))
    out: set[tuple[int, str]] = set()
    for chunk in _chunks(ids):
        marks, fmarks = ",".join("?" * len(chunk)), ",".join("?" * len(fields))
        out.update((r[0], r[1]) for r in store.query(
            f"SELECT r.object_id, r.role_field FROM roles r WHERE r.content_type = ? AND r.object_id IN ({marks})"
            f" AND r.role_field IN ({fmarks}) AND EXISTS (SELECT 1 FROM role_ancestors a"
            f" WHERE a.descendant = r.id AND a.ancestor IN ({HELD}))", [content_type, *chunk, *fields, user_id]))
    return out


def visible_objects_sql(content_type: str, role_field: str, user_id: int,
                        via: Sequence[tuple[str, Sequence[int]]],
                        terms: Sequence[tuple[str, list]] = ()) -> tuple[str, list]:
    """Objects on which the user holds ``role_field``: through the objects their foreign keys
    name (``via``: ``(column, ids of the targets whose role implies role_field on every object
    pointing at them)``, e.g. the organizations a user audits), or through a role of the
    object itself.  The foreign-key terms come first so the object term (an index range per
    held role) is only evaluated for rows they do not already admit; ``+`` keeps them from
    driving the query, so a page still walks its ORDER BY index and stops at LIMIT.  ``terms``
    are further ``(sql, params)`` alternatives, tried before the object term."""
    parts, params = [], []
    for column, ids in via:
        if ids:
            parts.append(f'+"{column}" IN ({",".join("?" * len(ids))})')
            params += list(ids)
    for sql, term_params in terms:
        parts.append(f"({sql})")
        params += term_params
    own, own_params = objects_with_role_sql(content_type, role_field, user_id)
    parts.append(own)
    return " OR ".join(parts), [*params, *own_params]


def create_roles(store: Store, content_type: str, object_id: int, fields: Iterable[str]) -> dict[str, int]:
    ids = {}
    for f in fields:
        ids[f] = store.insert("roles", {"content_type": content_type, "object_id": object_id,
                                         "role_field": f})
    return ids


def roles_of(store: Store, content_type: str, object_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """{object_id: {role_field: role_id}} for many objects at once (each dict the caller's own).

    Kept between calls while the roles table is not written (``Store.kept``): an object's
    role ids are read for every list page that shows it (``summary_fields.object_roles``),
    and they change only when roles are created or deleted."""
    ids = sorted({int(i) for i in object_ids})

    def read(keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, int]]:
        return {(content_type, i): held for i, held in _read_roles(store, content_type, [k[1] for k in keys]).items()}
    found = store.kept("roles_of", ("roles",), [(content_type, i) for i in ids], read)
    return {i: dict(found[(content_type, i)]) for i in ids}


def _read_roles(store: Store, content_type: str, ids: list[int]) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {i: {} for i in ids}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for role, object_id, field in store.tuples(f"SELECT id, object_id, role_field FROM roles WHERE"
                                                   f" content_type = ? AND object_id IN ({marks})",
                                                   [content_type, *chunk]):
            out[object_id][field] = role
    return out


def role_id(store: Store, content_type: str, object_id: int, role_field: str) -> int | None:
    return store.scalar("SELECT id FROM roles WHERE content_type = ? AND object_id = ? AND role_field = ?",
                        (content_type, object_id, role_field))


def set_implicit_parents(store: Store, role: int, parents: Iterable[int], new: bool = False) -> None:
    """Make ``parents`` the declared (implicit) parents of ``role``: only the difference is
    written, so an unchanged ancestry touches no ancestor row.  ``new``: the role was just
    created (it has no parents yet)."""
    want = set(parents)
    have = set() if new else {r[0] for r in store.query(
        "SELECT parent_id FROM role_parents WHERE role_id = ? AND implicit = 1", (role,))}
    for p in have - want:
        store.execute("DELETE FROM role_parents WHERE role_id = ? AND parent_id = ? AND implicit = 1", (role, p))
    for p in want - have:
        store.execute("INSERT OR IGNORE INTO role_parents (role_id, parent_id, implicit) VALUES (?, ?, 1)",
                      (role, p))
    if have - want:
        role_ancestors.refresh_stale(store)


def add_parent(store: Store, role: int, parent: int) -> bool:
    return store.execute("INSERT OR IGNORE INTO role_parents (role_id, parent_id, implicit) VALUES (?, ?, 0)",
                         (role, parent)).rowcount > 0


def remove_parent(store: Store, role: int, parent: int) -> bool:
    removed = store.execute("DELETE FROM role_parents WHERE role_id = ? AND parent_id = ? AND implicit = 0",
                            (role, parent)).rowcount > 0
    if removed:
        role_ancestors.refresh_stale(store)
    return removed


def add_member(store: Store, role: int, user_id: int) -> bool:
    return store.execute("INSERT OR IGNORE INTO role_members (role_id, user_id) VALUES (?, ?)",
                         (role, user_id)).rowcount > 0


def remove_member(store: Store, role: int, user_id: int) -> bool:
    return store.execute("DELETE FROM role_members WHERE role_id = ? AND user_id = ?", (role, user_id)).rowcount > 0


def is_member(store: Store, role: int, user_id: int) -> bool:
    return store.one("SELECT 1 FROM role_members WHERE role_id = ? AND user_id = ?", (role, user_id)) is not None


def has_parent(store: Store, role: int, parent: int) -> bool:
    return store.one("SELECT 1 FROM role_parents WHERE role_id = ? AND parent_id = ?", (role, parent)) is not None


def delete_object_roles(store: Store, content_type: str, object_id: int) -> None:
    ids = [r[0] for r in store.query("SELECT id FROM roles WHERE content_type = ? AND object_id = ?",
                                     (content_type, object_id))]
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        store.execute(f"DELETE FROM role_parents WHERE role_id IN ({marks}) OR parent_id IN ({marks})",
                      [*chunk, *chunk])
        store.execute(f"DELETE FROM role_members WHERE role_id IN ({marks})", chunk)
        store.execute(f"DELETE FROM roles WHERE id IN ({marks})", chunk)
    role_ancestors.refresh_stale(store)   # other objects' roles these were parents of


def delete_user_memberships(store: Store, user_id: int) -> None:
    store.execute("DELETE FROM role_members WHERE user_id = ?", (user_id,))


# -- sub-list membership expressions (over the target table's id) --------------------------
def members_sql(role: int | None) -> tuple[str, list]:
    return "id IN (SELECT user_id FROM role_members WHERE role_id = ?)", [role or 0]


def holders_sql(content_type: str, role_field: str, user_id: int) -> tuple[str, list]:
    """Objects whose role ``role_field`` has the user as a direct member."""
    return ("id IN (SELECT r.object_id FROM roles r JOIN role_members m ON m.role_id = r.id"
            " WHERE r.content_type = ? AND r.role_field = ? AND m.user_id = ?)",
            [content_type, role_field, user_id])


def user_roles_sql(user_id: int) -> tuple[str, list]:
    return "id IN (SELECT role_id FROM role_members WHERE user_id = ?)", [user_id]


def team_roles_sql(team_member_role: int | None) -> tuple[str, list]:
    return ("id IN (SELECT role_id FROM role_parents WHERE parent_id = ? AND implicit = 0)",
            [team_member_role or 0])


def role_teams_sql(role: int) -> tuple[str, list]:
    return ("id IN (SELECT object_id FROM roles WHERE content_type = 'team' AND role_field = 'member_role'"
            " AND id IN (SELECT parent_id FROM role_parents WHERE role_id = ? AND implicit = 0))", [role])


def object_roles_sql(content_type: str, object_id: int) -> tuple[str, list]:
    return "content_type = ? AND object_id = ?", [content_type, object_id]


def access_list_sql(role: int | None) -> tuple[str, list]:
    """Users holding a role effectively (any ancestor role membership) plus superusers."""
    return ("(is_superuser = 1 OR id IN (SELECT m.user_id FROM role_members m WHERE m.role_id IN ("
            " SELECT ancestor FROM role_ancestors WHERE descendant = ?)))", [role or 0])


def _chunks(items: Sequence[int], size: int = 500):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i:i + size]


def users_visible_sql(user_id: int) -> tuple[str, list]:
    """Users a non-auditor may see: themselves, members/admins of organizations they can read,
    and every superuser (AWX UserAccess lists those to everyone: they administer everything)."""
    return (f"is_superuser = 1 OR id = ?"
            f" OR id IN (SELECT m.user_id FROM role_members m JOIN roles r ON r.id = m.role_id"
            f" WHERE r.content_type = 'organization' AND r.role_field IN ('member_role', 'admin_role')"
            f" AND r.object_id IN (SELECT object_id FROM role_ancestors WHERE ancestor IN ({HELD})"
            f" AND content_type = 'organization' AND role_field = 'read_role'))", [user_id, user_id])


def holds_any_sql(content_type: str, role_field: str, user_id: int) -> tuple[str, list]:
    """One row when the user holds ``role_field`` of any object of ``content_type``."""
    return (f"SELECT 1 FROM role_ancestors WHERE ancestor IN ({HELD}) AND content_type = ? AND role_field = ?"
            f" LIMIT 1", [user_id, content_type, role_field])


def typed_objects_sql(type_col: str, id_col: str, visible: dict[str, tuple[str, list] | None],
                      tables: dict[str, str]) -> tuple[str, list]:
    """OR over object types: rows whose (type_col, id_col) names an object visible to the user."""
    parts, params = [], []
    for ctype, vis in visible.items():
        if vis is None:
            parts.append(f"{type_col} = ?")
            params.append(ctype)
        else:
            parts.append(f'({type_col} = ? AND {id_col} IN (SELECT id FROM "{tables[ctype]}" WHERE {vis[0]}))')
            params += [ctype, *vis[1]]
    return (" OR ".join(parts) or "0"), params


# -- owners and member counts (summaries) -------------------------------------------------------
def direct_member_users(store: Store, role_ids: Sequence[int]) -> list[Row]:
    """``(role_id, id, username, first_name, last_name)`` of the users holding one of
    ``role_ids`` directly (not through a team or an ancestor role), by user id."""
    if not role_ids:
        return []
    marks = ",".join("?" * len(role_ids))
    return store.query(f"SELECT m.role_id, u.id, u.username, u.first_name, u.last_name FROM role_members m"
                       f" JOIN users u ON u.id = m.user_id WHERE m.role_id IN ({marks}) ORDER BY u.id", role_ids)


def team_grants(store: Store, role_ids: Sequence[int]) -> list[Row]:
    """``(role_id, object_id)``: the teams (``object_id``) whose role is a parent of one of
    ``role_ids`` (a grant of that role to the team)."""
    if not role_ids:
        return []
    marks = ",".join("?" * len(role_ids))
    return store.query("SELECT rp.role_id, r.object_id FROM role_parents rp JOIN roles r ON r.id = rp.parent_id"
                       f" WHERE r.content_type = 'team' AND rp.role_id IN ({marks})", role_ids)


def direct_member_counts(store: Store, content_type: str, role_field: str, object_ids: Sequence[int]) -> dict[int, int]:
    """``{object id: number of direct members of its role_field}`` for objects that have any."""
    if not object_ids:
        return {}
    marks = ",".join("?" * len(object_ids))
    return {r[0]: r[1] for r in store.query(
        "SELECT r.object_id, count(m.user_id) FROM roles r JOIN role_members m ON m.role_id = r.id"
        f" WHERE r.content_type = ? AND r.role_field = ? AND r.object_id IN ({marks})"
        " GROUP BY r.object_id", [content_type, role_field, *object_ids])}
