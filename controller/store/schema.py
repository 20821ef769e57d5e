"""Tables derived from the registry, plus the few internal tables no resource declares.

Migration is additive and idempotent: missing tables are created, missing columns added,
indexes ensured.  A column is never dropped or retyped automatically (data first).
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

_SQL_TYPES = {
    "string": str, "text": str, "choice": str, "email": str, "password": str,
    "datetime": str, "json": str, "vars": str, "integer": int, "id": int, "boolean": int, "float": float,
}

# Internal tables: role graph, sessions, key/value metadata.
_INTERNAL: dict[str, tuple[dict[str, Any], str | tuple[str, ...]]] = {
    "role_parents": ({"role_id": int, "parent_id": int, "implicit": int}, ("role_id", "parent_id")),
    "role_members": ({"role_id": int, "user_id": int}, ("role_id", "user_id")),
    "sessions": ({"key_hash": str, "user_id": int, "expires": float, "created": str}, "key_hash"),
    "meta": ({"key": str, "value": str}, "key"),
}
_INTERNAL_INDEXES = [
    ("role_parents", ["parent_id"]),
    ("role_members", ["user_id"]),
    ("sessions", ["user_id"]),
]


def fingerprint(registry) -> str:
    """A digest of everything migrate() derives from the declarations."""
    parts = []
    for resource in registry:
        cols = sorted((c, t.__name__) for c, t in resource_columns(resource).items())
        idx = sorted(str(f.name) for f in resource.stored_fields if f.index or f.unique or f.name == "name")
        m2m = sorted(r.key + (":ordered" if r.ordered else "") for r in resource.relations if r.kind == "m2m")
        parts.append(repr((resource.table, cols, idx, resource.unique_together, resource.indexes, m2m,
                           resource.id_group)))
    parts.append(repr(sorted(_INTERNAL)) + repr(_INTERNAL_INDEXES) + "autoincrement-v1")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def column_type(field) -> type:
    if field.kind == "choice" and field.choices and isinstance(field.choices[0][0], int):
        return int
    return _SQL_TYPES[field.kind]


def resource_columns(resource) -> dict[str, type]:
    cols: dict[str, type] = {"id": int}
    if resource.timestamps:
        cols.update({"created": str, "modified": str, "created_by": int, "modified_by": int})
    for f in resource.stored_fields:
        cols[f.name] = column_type(f)
    return cols


_SQL_NAMES = {str: "TEXT", int: "INTEGER", float: "REAL"}


def _create_autoincrement(db: sqlite_utils.Database, name: str, cols: dict[str, type]) -> None:
    """AUTOINCREMENT so an id is never reused: a deleted object's history (activity stream,
    role grants) must not attach itself to the next object created."""
    body = ", ".join(f'"{c}" {_SQL_NAMES[t]}' for c, t in cols.items() if c != "id")
    db.execute(f'CREATE TABLE "{name}" ("id" INTEGER PRIMARY KEY AUTOINCREMENT{", " + body if body else ""})')


def _shared_id_trigger(group: str, table: str, tables: list[str]) -> str:
    """After an insert into one table of the group, no table of the group may hand out an id at
    or below the new one (AUTOINCREMENT reads sqlite_sequence), so ids never collide."""
    names = ", ".join(f"'{t}'" for t in tables)
    members = " UNION ALL ".join(f"SELECT '{t}' AS n" for t in tables)
    return (f'CREATE TRIGGER IF NOT EXISTS "turret_{group}_id_{table}" AFTER INSERT ON "{table}" BEGIN '
            f"UPDATE sqlite_sequence SET seq = NEW.id WHERE name IN ({names}) AND seq < NEW.id; "
            f"INSERT INTO sqlite_sequence (name, seq) SELECT n, NEW.id FROM ({members}) "
            f"WHERE n NOT IN (SELECT name FROM sqlite_sequence); END")


def migrate(db: sqlite_utils.Database, registry) -> None:
    """Bring the database schema up to the registry's declarations."""
    for name, (cols, pk) in _INTERNAL.items():
        table = db.table(name)
        if not table.exists():
            table.create(cols, pk=pk)
    for index_table, index_cols in _INTERNAL_INDEXES:
        db.table(index_table).create_index(index_cols, if_not_exists=True)
    for resource in registry:
        cols = resource_columns(resource)
        table = db.table(resource.table)
        if not table.exists():
            _create_autoincrement(db, resource.table, cols)
        else:
            existing = set(table.columns_dict)
            for col, typ in cols.items():
                if col not in existing:
                    table.add_column(col, typ)
        for f in resource.stored_fields:
            if f.index or f.unique or f.name == "name":
                table.create_index([f.name], if_not_exists=True)
        for group in resource.unique_together:
            table.create_index(list(group), if_not_exists=True)
        for extra in getattr(resource, "indexes", ()) or ():
            table.create_index(list(extra), if_not_exists=True)
        for rel in resource.relations:
            if rel.kind == "m2m":
                name, left, right = rel.key.split(":")
                if not db.table(name).exists():
                    db.table(name).create({left: int, right: int}, pk=(left, right))
                if rel.ordered and "position" not in db.table(name).columns_dict:
                    db.table(name).add_column("position", int)
                db.table(name).create_index([right], if_not_exists=True)
    groups: dict[str, list[str]] = {}
    for resource in registry:
        if resource.id_group:
            groups.setdefault(resource.id_group, []).append(resource.table)
    for group, tables in groups.items():
        for member in tables:
            # rebuilt, not kept: a group that gained a table (an upgrade) needs it in every trigger
            db.execute(f'DROP TRIGGER IF EXISTS "turret_{group}_id_{member}"')
            db.execute(_shared_id_trigger(group, member, sorted(tables)))
        _align_sequences(db, sorted(tables))


def _align_sequences(db: sqlite_utils.Database, tables: list[str]) -> None:
    """Every table of an id group continues after the highest id the group handed out, so a
    table added to the group by an upgrade does not start again at 1 (ids already in use)."""
    names = ", ".join(f"'{t}'" for t in tables)
    top = db.execute(f"SELECT max(seq) FROM sqlite_sequence WHERE name IN ({names})").fetchone()[0]
    if top is None:
        return
    db.execute(f"UPDATE sqlite_sequence SET seq = ? WHERE name IN ({names}) AND seq < ?", [top, top])
    for t in tables:
        db.execute("INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? WHERE NOT EXISTS "
                   "(SELECT 1 FROM sqlite_sequence WHERE name = ?)", [t, top, t])
