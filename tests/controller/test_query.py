"""controller.query: the AWX filter language compiled to SQLite, run against real rows."""
from __future__ import annotations

import re
import sqlite3

import pytest

from controller.query import (RESERVED, Compiled, ForbiddenFilter, QueryError,
                              compile_query)
from controller.registry import Field, Registry, Relation, Resource, RoleSpec


def _registry() -> Registry:
    reg = Registry()
    reg.add(Resource(
        "organization", "organizations",
        [Field("max_hosts", "integer", default=0), Field("flag", "boolean", default=False),
         Field("data", "json", default=None), Field("host_count", "integer", stored=False)],
        ordering=("name",), search_fields=("name", "description"),
        relations=[Relation("teams", "team", "reverse_fk", key="organization"),
                   Relation("admins", "user", "role_members", key="admin_role")],
        roles=[RoleSpec("admin_role", "Admin", "Can manage all aspects of the organization")]))
    reg.add(Resource(
        "team", "teams",
        [Field("organization", "id", fk="organization", null=True),
         Field("token", "string", secret=True), Field("note", "string", prevent_search=True),
         Field("hint", "string", write_only=True)],
        ordering=("name",),
        relations=[Relation("members", "user", "m2m", key="team_members:team_id:user_id")]))
    reg.add(Resource(
        "user", "users",
        [Field("username", "string"), Field("first_name", "string"), Field("email", "email"),
         Field("password", "password", write_only=True),
         Field("is_superuser", "boolean", default=False),
         Field("last_login", "datetime", null=True, default=None)],
        common_fields=False, timestamps=False, ordering=("username",),
        search_fields=("username", "first_name", "email")))
    reg.add(Resource(
        "project", "projects",
        [Field("organization", "id", fk="organization", null=True), Field("playbook", "string"),
         Field("verbosity", "choice", choices=[(0, "Normal"), (1, "Verbose")], default=0),
         Field("enabled", "boolean", null=True, default=None), Field("ratio", "float")],
        ordering=("-organization", "name")))
    return reg


REG = _registry()

ROWS = {
    "organizations": [
        dict(id=1, name="Default", description="The default org", max_hosts=0, flag=1,
             data='{"a": 1}', created="2026-01-01T00:00:00.000000Z"),
        dict(id=2, name="Engineering", description="eng STUFF", max_hosts=10, flag=0,
             data="[]", created="2026-02-01T00:00:00.000000Z"),
        dict(id=3, name="ops", description="", max_hosts=5, flag=1, data="null",
             created="2026-03-01T00:00:00.000000Z"),
        dict(id=4, name="Ünïcode Org", description=None, max_hosts=100, flag=0, data="{}",
             created="2026-03-15T12:30:00.500000Z", created_by=1),
    ],
    "users": [
        dict(id=1, username="admin", first_name="Ada", email="admin@example.com",
             password="pbkdf2$x", is_superuser=1, last_login="2026-05-01T10:00:00.000000Z"),
        dict(id=2, username="bob", first_name="Bob", email="bob@example.com",
             password="pbkdf2$y", is_superuser=0, last_login=None),
        dict(id=3, username="carol", first_name="Carol", email="carol@corp.test",
             password="pbkdf2$z", is_superuser=0, last_login="2026-04-01T10:00:00.000000Z"),
    ],
    "teams": [
        dict(id=1, name="alpha", organization=1, token="s1", note="n1"),
        dict(id=2, name="beta", organization=1, token="s2", note="n2"),
        dict(id=3, name="gamma", organization=2, token="s3", note="n3"),
        dict(id=4, name="orphan", organization=None, token="", note=""),
    ],
    "projects": [
        dict(id=1, name="p1", organization=2, playbook="site.yml", verbosity=0, enabled=1,
             ratio=0.5),
        dict(id=2, name="p2", organization=3, playbook="deploy.yml", verbosity=1, enabled=None,
             ratio=1.5),
        dict(id=3, name="p0", organization=2, playbook="x.yml", verbosity=1, enabled=0,
             ratio=2.0),
    ],
}


def _regexp(pattern, value):
    if pattern is None or value is None:
        return 0
    return 1 if re.search(pattern, str(value)) else 0


@pytest.fixture(scope="module")
def conn():
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, _regexp, deterministic=True)
    for res in REG:
        cols = ['"id" INTEGER PRIMARY KEY']
        if res.timestamps:
            cols += ['"created" TEXT', '"modified" TEXT', '"created_by" INTEGER',
                     '"modified_by" INTEGER']
        cols += [f'"{f.name}"' for f in res.stored_fields]
        db.execute(f'CREATE TABLE "{res.table}" ({", ".join(cols)})')
        for row in ROWS.get(res.table, []):
            keys = ", ".join(f'"{k}"' for k in row)
            db.execute(f'INSERT INTO "{res.table}" ({keys}) VALUES ({", ".join("?" * len(row))})',
                       list(row.values()))
    db.execute('CREATE TABLE "team_members" ("team_id" INTEGER, "user_id" INTEGER)')
    db.executemany('INSERT INTO "team_members" VALUES (?, ?)', [(1, 1), (1, 2), (3, 3)])
    yield db
    db.close()


def run(conn, name: str, query: str | list, **kw) -> list[int]:
    """Compile ``query`` ("a=1&b=2" or pairs) for resource ``name`` and return the ids in order."""
    if isinstance(query, str):
        query = [tuple(p.split("=", 1)) for p in query.split("&") if p]
    res = REG[name]
    c = compile_query(REG, res, query, **kw)
    sql = f'SELECT id FROM "{res.table}" WHERE {c.where} ORDER BY {c.order_by}'
    assert sql.count("?") == len(c.params), sql
    return [r[0] for r in conn.execute(sql, c.params)]


def S(conn, name, query, **kw) -> set[int]:
    return set(run(conn, name, query, **kw))


def err(name, query, exc=QueryError) -> str:
    if isinstance(query, str):
        query = [tuple(p.split("=", 1)) for p in query.split("&") if p]
    with pytest.raises(exc) as info:
        compile_query(REG, REG[name], query)
    return info.value.message


# -- lookups ---------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("name=Default", {1}), ("name=default", set()), ("name__exact=ops", {3}),
    ("name__iexact=DEFAULT", {1}), ("name__iexact=defaul", set()),
    ("name__contains=ng", {2}), ("description__contains=STUFF", {2}),
    ("description__contains=stuff", set()), ("name__icontains=ENG", {2}),
    ("name__startswith=D", {1}), ("name__startswith=d", set()), ("name__istartswith=d", {1}),
    ("name__endswith=ing", {2}), ("name__endswith=ING", set()), ("name__iendswith=ING", {2}),
    ("name__endswith=", {1, 2, 3, 4}), ("name__iendswith=defaultx", set()),
    ("name__regex=^[A-Z]", {1, 2}), ("name__regex=^e", set()), ("name__iregex=^e", {2}),
    ("name__gt=a", {3, 4}), ("name__lt=E", {1}),
    ("max_hosts__gt=5", {2, 4}), ("max_hosts__gte=5", {2, 3, 4}), ("max_hosts__lt=5", {1}),
    ("max_hosts__lte=5", {1, 3}), ("max_hosts=10", {2}), ("max_hosts__in=0,5", {1, 3}),
    ("max_hosts__contains=0", {1, 2, 4}),  # non-text columns compare through their text form
    ("name__in=Default,ops,nope", {1, 3}), ("id__in=2,4", {2, 4}), ("pk=2", {2}),
    ("pk__gt=2", {3, 4}), ("id__lte=1", {1}),
    ("description__isnull=true", {4}), ("description__isnull=False", {1, 2, 3}),
    ("flag=true", {1, 3}), ("flag=F", {2, 4}), ("flag=1", {1, 3}), ("flag__in=0", {2, 4}),
    ("data=[]", {2}), ("data__contains=\"a\"", {1}), ("data__icontains=NULL", {3}),
    ("created__gt=2026-02-01", {3, 4}), ("created__gte=2026-02-01T00:00:00Z", {2, 3, 4}),
    ("created__lt=2026-01-15T00:00:00+00:00", {1}),
    ("created=2026-03-15T12:30:00.5Z", {4}), ("created__lte=2026-03-15 14:30:00.5+02:00", {1, 2, 3, 4}),
    ("created__lt=2026-03-15 14:30:00.5+02:00", {1, 2, 3}),
    ("created__startswith=2026-03", {3, 4}), ("modified__isnull=true", {1, 2, 3, 4}),
    ("created_by=1", {4}), ("created_by__username=admin", {4}), ("created_by=null", {1, 2, 3}),
])
def test_organization_lookups(conn, query, expected):
    assert S(conn, "organization", query) == expected


@pytest.mark.parametrize("query, expected", [
    # forward FK: the id shortcut, null, and traversal
    ("organization=1", {1, 2}), ("organization=null", {4}), ("organization=None", {4}),
    ("organization__isnull=true", {4}), ("organization__isnull=0", {1, 2, 3}),
    ("organization__in=1,2", {1, 2, 3}), ("organization__in=2,null", {3}),
    ("organization__in=null", set()), ("organization__gt=1", {3}),
    ("organization__id=2", {3}), ("organization__pk=2", {3}),
    ("organization__name=Default", {1, 2}), ("organization__name__icontains=ENG", {3}),
    ("organization__flag=true", {1, 2}), ("organization__max_hosts__gte=10", {3}),
    # Django's outer-join semantics for isnull across a nullable FK: the orphan is included
    ("organization__description__isnull=true", {4}),
    ("organization__description__isnull=false", {1, 2, 3}),
    # through a reverse FK declared nowhere (named by the child's plural)
    ("organization__projects__playbook=site.yml", {3}),
    ("organization__projects__playbook__icontains=DEPLOY", set()),
    # m2m
    ("members=3", {3}), ("members__in=1,3", {1, 3}), ("members__username=bob", {1}),
    ("members__username__startswith=c", {3}), ("members__isnull=true", {2, 4}),
    ("members__isnull=false", {1, 3}), ("members=null", {2, 4}),
    ("members__is_superuser=true", {1}), ("not__members__username=bob", {2, 3, 4}),
    ("members__last_login__isnull=true", {1, 2, 4}),
])
def test_team_relations(conn, query, expected):
    assert S(conn, "team", query) == expected


@pytest.mark.parametrize("query, expected", [
    ("teams__name=alpha", {1}), ("teams=3", {2}), ("teams__in=1,3", {1, 2}),
    ("teams__isnull=true", {3, 4}), ("teams__isnull=false", {1, 2}), ("teams=null", {3, 4}),
    ("teams__name__startswith=", {1, 2}), ("not__teams__name=alpha", {2, 3, 4}),
    ("teams__members__username=carol", {2}), ("projects__playbook=site.yml", {2}),
    ("projects__verbosity=1", {2, 3}), ("teams__name=alpha&teams__name=beta", {1}),
    ("chain__teams__name=alpha&chain__teams__name=beta", {1}),
])
def test_reverse_relations(conn, query, expected):
    assert S(conn, "organization", query) == expected


@pytest.mark.parametrize("query, expected", [
    ("verbosity=1", {2, 3}), ("verbosity__gt=0", {2, 3}), ("verbosity__in=0", {1}),
    ("enabled=null", {2}), ("enabled=true", {1}), ("enabled__isnull=false", {1, 3}),
    ("not__enabled=true", {2, 3}), ("ratio__gte=1.5", {2, 3}), ("ratio=0.5", {1}),
    ("organization__teams__name=gamma", {1, 3}),
])
def test_project_kinds(conn, query, expected):
    assert S(conn, "project", query) == expected


def test_users_datetime_and_boolean(conn):
    assert S(conn, "user", "is_superuser=t") == {1}
    assert S(conn, "user", "is_superuser=FALSE") == {2, 3}
    assert S(conn, "user", "last_login__gte=2026-04-15") == {1}
    assert S(conn, "user", "last_login__isnull=true") == {2}
    assert S(conn, "user", "not__last_login__gte=2026-04-15") == {2, 3}


# -- prefixes --------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("not__name=Default", {2, 3, 4}),
    ("not__description__icontains=stuff", {1, 3, 4}),   # NULL description is not a match
    ("not__max_hosts__in=0,5", {2, 4}), ("not__description__isnull=true", {1, 2, 3}),
    ("or__name=Default&or__name=ops", {1, 3}),
    ("or__name=Default&or__not__flag=true", {1, 2, 4}),
    ("or__name=Default&or__name=ops&flag=true", {1, 3}),
    ("or__name=Default&or__name=ops&max_hosts__gt=1", {3}),
    ("or__not__description__icontains=stuff&or__name=Engineering", {1, 2, 3, 4}),
    ("chain__name=Default", {1}), ("chain__not__name=Default", {2, 3, 4}),
    ("name__icontains=e&name__icontains=g", {2, 4}), ("name=Default&name=ops", set()),
    ("or__teams__name=gamma&or__max_hosts=100", {2, 4}),
])
def test_prefixes(conn, query, expected):
    assert S(conn, "organization", query) == expected


def test_repeated_or_values_and_order_of_params(conn):
    pairs = [("or__name", "Default"), ("max_hosts__lt", "50"), ("or__name", "Engineering"),
             ("or__name", "Ünïcode Org")]
    assert S(conn, "organization", pairs) == {1, 2}


# -- search ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, query, expected", [
    ("organization", "search=eng", {2}), ("organization", "search=default stuff", set()),
    ("organization", "search=eng,stuff", {2}), ("organization", "search=The  org", {1}),
    ("organization", "search=", {1, 2, 3, 4}), ("user", "search=CORP", {3}),
    ("user", "search=example bo", {2}), ("team", "search=anything", {1, 2, 3, 4}),
    ("team", "organization__search=eng", {3}),
    ("team", "organization__search=default&organization__search=eng", {1, 2, 3}),
    ("team", "organization__search=default,eng", set()),
    ("team", "organization__search=the,default", {1, 2}),
    ("team", "members__search=example", {1}), ("team", "members__search=CAROL", {3}),
    ("organization", "teams__search=alph", {1}), ("organization", "projects__search=deploy", {3}),
    ("organization", "created_by__search=ada", {4}),
    ("team", "organization__search=eng&name=alpha", set()),
])
def test_search(conn, name, query, expected):
    assert S(conn, name, query) == expected


def test_related_search_sets_distinct():
    c = compile_query(REG, REG["team"], [("members__search", "x")])
    assert c.distinct is True
    assert compile_query(REG, REG["team"], [("name", "x")]).distinct is False


# -- type, role_level, reserved --------------------------------------------------------

def test_type_filter(conn):
    assert S(conn, "organization", "type=organization") == {1, 2, 3, 4}
    assert S(conn, "organization", "type=team,organization") == {1, 2, 3, 4}
    assert S(conn, "organization", "type=team") == set()
    assert S(conn, "organization", "type=team&type=organization") == {1, 2, 3, 4}
    # a view may handle type itself
    assert S(conn, "organization", "type=team", extra_reserved={"type"}) == {1, 2, 3, 4}


def test_role_level(conn):
    calls = []

    def rl(role):
        calls.append(role)
        return '"organizations"."id" IN (?, ?)', [1, 3]

    assert S(conn, "organization", "role_level=admin_role&not__name=Engineering",
             role_level_sql=rl) == {1, 3}
    assert calls == ["admin_role"]
    assert S(conn, "organization", "role_level=admin_role") == {1, 2, 3, 4}
    assert err("user", "role_level=admin_role") == (
        "Cannot apply role_level filter to this list because its model does not use roles "
        "for access control.")


def test_reserved_and_extra_reserved(conn):
    q = "&".join(f"{k}=1" for k in sorted(RESERVED - {"type", "role_level", "search",
                                                      "order", "order_by"}))
    assert S(conn, "organization", q) == {1, 2, 3, 4}
    assert S(conn, "organization", "frob=1&name=ops", extra_reserved={"frob"}) == {3}
    assert err("organization", "frob=1") == "Organization has no field named 'frob'"


# -- ordering --------------------------------------------------------------------------

@pytest.mark.parametrize("name, query, expected", [
    ("organization", "", [1, 2, 3, 4]),                 # default ordering: name
    ("organization", "order_by=-max_hosts", [4, 2, 3, 1]),
    ("organization", "order=-name", [4, 3, 2, 1]),
    ("organization", "order_by=flag,-id", [4, 2, 3, 1]),
    ("organization", "order_by=type,-type,max_hosts", [1, 3, 2, 4]),
    ("organization", "order_by=name&order=-name", [4, 3, 2, 1]),   # last one wins
    ("organization", "order_by=-pk", [4, 3, 2, 1]),
    ("organization", "order_by=-created", [4, 3, 2, 1]),
    ("organization", "order_by=data", [2, 3, 1, 4]),
    ("team", "", [1, 2, 3, 4]),
    ("team", "order_by=organization__name", [1, 2, 3, 4]),        # NULLs last ascending
    ("team", "order_by=-organization__name", [4, 3, 1, 2]),       # ... first descending
    ("team", "order_by=organization", [1, 2, 3, 4]),              # FK -> target ordering
    ("team", "order_by=-organization,-name", [4, 3, 2, 1]),
    ("team", "order_by=organization__id,-name", [2, 1, 3, 4]),
    ("team", "order_by=organization__created_by__username", [1, 2, 3, 4]),
    ("user", "order_by=last_login", [3, 1, 2]), ("user", "order_by=-last_login", [2, 1, 3]),
    ("project", "", [2, 3, 1]),  # ("-organization", "name") -> -organization__name, name
    ("project", "order_by=verbosity,-ratio", [1, 3, 2]),
    ("project", "order_by=enabled", [3, 1, 2]),
])
def test_ordering(conn, name, query, expected):
    assert run(conn, name, query) == expected


def test_order_by_always_ends_with_id():
    c = compile_query(REG, REG["team"], [("order_by", "name")])
    assert c.order_by.endswith('"teams"."id" ASC')
    assert compile_query(REG, REG["organization"], []).where == "1"


@pytest.mark.parametrize("name, query, message", [
    ("organization", "order_by=bogus", "Organization has no field named 'bogus'"),
    ("organization", "order_by=name,-nope", "Organization has no field named 'nope'"),
    ("organization", "order_by=host_count", "Organization has no field named 'host_count'"),
    ("organization", "order_by=teams__name",
     "Cannot order by multi-valued relation teams."),
    ("team", "order_by=name__foo", "No related model for field foo."),
    ("team", "order_by=organization__teams__organization",
     "Loops not allowed in filters, detected on field organization."),
])
def test_ordering_errors(name, query, message):
    assert err(name, query) == message


@pytest.mark.parametrize("name, query, message", [
    ("team", "order_by=token", "Filtering on field token is not allowed."),
    ("team", "order_by=-note", "Filtering on note is not allowed."),
    ("user", "order_by=password", "Filtering on password is not allowed."),
    ("organization", "order_by=created_by__password", "Filtering on password is not allowed."),
])
def test_ordering_forbidden(name, query, message):
    assert err(name, query, ForbiddenFilter) == message


# -- errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, query, message", [
    ("organization", "flag=yes", 'Unable to convert "yes" to boolean'),
    ("organization", "flag=null", 'Unable to convert "null" to boolean'),
    ("organization", "description__isnull=maybe", 'Unable to convert "maybe" to boolean'),
    ("organization", "max_hosts=abc", '["“abc” value must be an integer."]'),
    ("organization", "max_hosts__in=1,x", '["“x” value must be an integer."]'),
    ("organization", "pk=x", '["“x” value must be an integer."]'),
    ("project", "ratio=big", '["“big” value must be a float."]'),
    ("organization", "created__gt=yesterday",
     '["“yesterday” value has an invalid format. It must be in '
     'YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format."]'),
    ("team", "organization=abc", "Invalid organization id: abc"),
    ("team", "organization__in=1,abc", "Invalid organization id: abc"),
    ("team", "members=bob", "Invalid members id: bob"),
    ("organization", "teams=x", "Invalid teams id: x"),
    ("team", "organization__gt=null", "Cannot use None as a query value"),
    ("team", "organization__icontains=1", "Related Field got invalid lookup: icontains"),
    ("organization", "name__in=", "cannot provide empty value for __in"),
    ("organization", "max_hosts__iexact=5",
     "max_hosts is not a text field and cannot be filtered by case-insensitive search"),
    ("organization", "created__iexact=x",
     "created is not a text field and cannot be filtered by case-insensitive search"),
    ("team", "organization__iexact=1",
     "organization is not a text field and cannot be filtered by case-insensitive search"),
    ("organization", "name__regex=(", "missing ), unterminated subpattern"),
    ("organization", "name__iregex=[a", "unterminated character set"),
    ("team", "organization__teams__organization__name=x",
     "Loops not allowed in filters, detected on field organization."),
    ("organization", "teams__organization__teams=1",
     "Loops not allowed in filters, detected on field teams."),
    ("organization", "name__foo=1", "No related model for field foo."),
    ("team", "organization__name__bar__icontains=1", "No related model for field bar."),
    ("organization", "bogus=1", "Organization has no field named 'bogus'"),
    ("organization", "not__or__name=1", "Organization has no field named 'or'"),
    ("organization", "host_count=1", "Organization has no field named 'host_count'"),
    ("organization", "admins__username=x", "Organization has no field named 'admins'"),
    ("team", "hint=x", "Team has no field named 'hint'"),
    ("team", "organization__bogus=1", "Organization has no field named 'bogus'"),
    ("user", "created=2026-01-01", "User has no field named 'created'"),
    ("organization", "nämé=1", "'nämé' is not an allowed field name. Must be ascii encodable."),
    ("organization", "__exact=1", "Query string field name not provided."),
    ("organization", "name__search=x", "name is not searchable"),
    ("team", "organization__name__search=x", "organization__name is not searchable"),
    ("organization", "or__teams__search=x", "Organization has no field named 'or'"),
])
def test_errors(name, query, message):
    got = err(name, query)
    assert got == message or (message.startswith("missing") or message.startswith("unterm")) \
        and got.startswith(message)


@pytest.mark.parametrize("name, query, message", [
    ("user", "password=x", "Filtering on password is not allowed."),
    ("user", "password__startswith=pbkdf2", "Filtering on password is not allowed."),
    ("team", "token=s1", "Filtering on field token is not allowed."),
    ("team", "not__token__isnull=true", "Filtering on field token is not allowed."),
    ("team", "note=n1", "Filtering on note is not allowed."),
    ("team", "or__note__in=n1", "Filtering on note is not allowed."),
    ("team", "members__password=x", "Filtering on password is not allowed."),
    ("organization", "created_by__password=x", "Filtering on password is not allowed."),
    ("organization", "teams__token=s1", "Filtering on field token is not allowed."),
])
def test_forbidden(name, query, message):
    assert err(name, query, ForbiddenFilter) == message


# -- safety ----------------------------------------------------------------------------

def test_values_are_parameterized(conn):
    evil = "'; DROP TABLE organizations; --"
    for key in ("name", "name__icontains", "name__iendswith", "name__in", "name__regex",
                "not__name__startswith", "teams__name", "data"):
        c = compile_query(REG, REG["organization"], [(key, evil)])
        assert evil not in c.where and "DROP" not in c.where
    assert S(conn, "organization", [("name", evil)]) == set()
    assert S(conn, "organization", [("search", evil)]) == set()
    assert S(conn, "team", [("organization__search", evil)]) == set()
    assert S(conn, "organization", [("not__name", evil)]) == {1, 2, 3, 4}
    assert conn.execute('SELECT count(*) FROM "organizations"').fetchone()[0] == 4
    # identifiers only ever come from the registry
    with pytest.raises(QueryError):
        compile_query(REG, REG["organization"], [('name" OR 1=1 --', "x")])
    with pytest.raises(QueryError):
        compile_query(REG, REG["organization"], [("order_by", 'name"; DROP TABLE x; --')])


def test_like_wildcards_are_literal(conn):
    assert S(conn, "organization", "name__icontains=%") == set()
    assert S(conn, "organization", "name__contains=_") == set()
    assert S(conn, "organization", "name__istartswith=_") == set()


def test_compiled_shape():
    c = compile_query(REG, REG["team"], [("organization__name", "x"), ("order_by", "-name")])
    assert isinstance(c, Compiled)
    assert c.params == ["x"]
    assert c.where.startswith('("teams"."organization" IN (SELECT')
    # name is never NULL, so no NULLS clause: the (organization, name) index stays usable
    assert c.order_by == '"teams"."name" DESC, "teams"."id" ASC'     # the default name ASC never decides


# -- compiled queries kept per registry ---------------------------------------------------------
def test_a_compiled_query_is_kept_per_registry_and_each_answer_is_the_callers(monkeypatch):
    import controller.query as q
    reg, other = _registry(), _registry()
    calls: list[tuple] = []
    real = q.compile_uncached

    def counted(registry, resource, args, **kw):
        calls.append((registry, tuple(args)))
        return real(registry, resource, args, **kw)
    monkeypatch.setattr(q, "compile_uncached", counted)
    args = [("name__icontains", "x"), ("order_by", "-name")]
    first = compile_query(reg, reg["team"], args)
    first.params.append("changed by the caller")
    again = compile_query(reg, reg["team"], list(args))
    assert again == Compiled(first.where, ["%x%"], first.order_by, first.distinct) and len(calls) == 1
    assert compile_query(other, other["team"], args).where == first.where and len(calls) == 2   # its own
    compile_query(reg, reg["team"], args, extra_reserved={"name__icontains"})                 # another key
    assert len(calls) == 3
    # a role_level filter's SQL is the user's: compiled every time, with their callback
    for user_sql in ("1", "2"):
        got = compile_query(reg, reg["organization"], [("role_level", "admin_role")],
                            role_level_sql=lambda field, s=user_sql: (s, []))
        assert f"({user_sql})" in got.where
    assert len(calls) == 5
    # a resource the registry does not hold (built apart) is never kept
    apart = Resource("team", "teams", [Field("organization", "id", fk="organization", null=True)])
    compile_query(reg, apart, args)
    compile_query(reg, apart, args)
    assert len(calls) == 7


def test_the_index_given_is_part_of_what_is_kept():
    reg = _registry()
    index = {"organizations": ("turret_search_organizations", frozenset({"name", "description"}))}
    plain = compile_query(reg, reg["organization"], [("search", "alpha")])
    indexed = compile_query(reg, reg["organization"], [("search", "alpha")], text_index=index)
    assert "MATCH" not in plain.where and "MATCH" in indexed.where
    assert "MATCH" not in compile_query(reg, reg["organization"], [("search", "alpha")]).where
    copy = dict(index)      # an equal mapping that is another object: compiled for itself
    assert compile_query(reg, reg["organization"], [("search", "alpha")], text_index=copy).where == indexed.where


def test_order_keys_that_never_decide_are_left_out():
    """A column already sorted on ties only where it tied before, and nothing ties after the
    unique id: such keys are not written (smaller sort records), the order is the same."""
    reg = _registry()
    team = reg["team"]
    assert compile_query(reg, team, [("order_by", "-id,name")]).order_by == '"teams"."id" DESC'
    assert compile_query(reg, team, [("order_by", "name,-name")]).order_by == '"teams"."name" ASC, "teams"."id" ASC'
    fk = compile_query(reg, team, [("order_by", "organization,id")]).order_by
    assert fk == ('(SELECT "_q1"."name" FROM "organizations" "_q1" WHERE "_q1"."id" = "teams"."organization") '
                  'ASC NULLS LAST, "teams"."id" ASC')
