"""Meta-tests: architecture rules and derived artefacts stay true as the code grows."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from controller.resources import build_registry
from controller.services.docs import render

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "controller"

# module prefix -> packages allowed to import it (DESIGN §3 "import rules worth a test")
IMPORT_RULES = {
    "flask": ("controller/api/", "controller/ui/", "controller/__init__.py"),
    "werkzeug": ("controller/api/", "controller/ui/"),
    "waitress": ("controller/serving.py",),
    "granian": ("controller/serving.py",),
    "gunicorn": ("controller/serving.py",),
    "sqlite_utils": ("controller/store/",),
    "sqlite3": ("controller/store/",),
    "ansible_runner": ("controller/jobs/executor",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_import_rules_hold():
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for module in _imports(path):
            allowed = IMPORT_RULES.get(module)
            if allowed is not None and not rel.startswith(allowed):
                offenders.append(f"{rel} imports {module}")
    assert offenders == []


def test_reference_docs_are_current():
    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == render(build_registry()), "run `turret docs` and commit docs/reference.md"


def test_every_resource_and_setting_is_documented():
    text = (ROOT / "docs" / "reference.md").read_text()
    from controller.config import SETTINGS
    for res in build_registry():
        assert f"`{res.list_url}`" in text
        for f in res.fields:
            if not f.hidden:
                assert f"`{f.name}`" in text
    for s in SETTINGS:
        assert f"`TURRET_{s.name}`" in text


def test_modules_stay_small():
    """DESIGN §3: small modules; a file past ~500 lines wants splitting along a noun."""
    big = [p.relative_to(ROOT).as_posix() for p in PKG.rglob("*.py") if len(p.read_text().splitlines()) > 500]
    assert big == []


# -- SQL statements only in the store (DESIGN §3) ----------------------------------------------
# A whole statement is written in controller/store/<noun>.py as a named, documented function.
# Outside the store, code may build SQL *fragments* (a WHERE such as ``id IN (SELECT ...)``,
# returned as ``(sql, params)``): the registry's visibility, scope and list-filter hooks do, and
# they never start with a statement keyword, so they need no entry below.  The modules that
# compile a grammar into SQL are named here: they build whole sub-selects by design.
SQL_COMPILERS = (
    "controller/query/compiler.py",      # the AWX query language -> WHERE / sub-selects
    "controller/services/host_filter.py",  # smart-inventory host_filter -> WHERE over hosts
    "controller/services/named_urls.py",   # named URLs (name++org) -> the id they name
)
SQL_STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|REPLACE|CREATE|PRAGMA)\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings or bare expression statements."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def _string_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal; an f-string's placeholders read as ``{}``.  The
    parts of an f-string are not reported on their own (only its start says "statement")."""
    inner = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    skip = _docstrings(tree) | inner
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            out.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)))
    return out


def _sql_statements_outside_store() -> list[str]:
    found = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("controller/store/") or rel in SQL_COMPILERS:
            continue
        for line, text in _string_literals(ast.parse(path.read_text(), filename=rel)):
            match = SQL_STATEMENT.match(text)
            if match and text.strip() != match.group(1):   # a bare "DELETE" is an HTTP method
                found.append(f"{rel}:{line}: {text.strip()[:60]}")
    return found


def test_sql_statements_live_in_the_store():
    """No string literal outside controller/store/ (and the named compilers) starts a SQL
    statement: SELECT, INSERT, UPDATE, DELETE, WITH, REPLACE, CREATE or PRAGMA."""
    assert _sql_statements_outside_store() == []


def test_the_sql_check_sees_statements(tmp_path):
    """The check above finds statements in plain and f-strings, and only those."""
    source = ('"""DELETE rights: a docstring."""\n'
              'A = "SELECT * FROM t"\nB = f"  UPDATE \\"{t}\\" SET x = 1"\nC = f"WITH{x} y"\n'
              'D = "DELETE"\nE = "Update the project"\nF = f"id IN (SELECT id FROM {t})"\n')
    texts = [text for _line, text in _string_literals(ast.parse(source))]
    hits = [t for t in texts if SQL_STATEMENT.match(t) and t.strip() != SQL_STATEMENT.match(t).group(1)]
    assert hits == ["SELECT * FROM t", '  UPDATE "{}" SET x = 1', "WITH{} y"]
    assert all((ROOT / p).exists() for p in SQL_COMPILERS)   # the allow-list names real modules


# -- one-way layers (DESIGN §3) ---------------------------------------------------------------
# Floors, top to bottom: a module may import its own floor or any floor below it, never one
# above.  The edges (app factory, CLI, API, UI) call resources' declarations and hooks;
# resources call the workflow engine, which starts jobs through the job machinery; jobs call
# services; services use access control and contexts; everything stands on the plain-data floor.  ``auth`` (sessions and tokens) sits
# with access: it needs only the store and ``passwords``.  ``secrets`` (the vault),
# ``passwords`` (KDF and token digests) and ``collection`` (where the bundled collection is)
# are leaves like ``config`` and ``errors``.
FLOORS: list[tuple[str, ...]] = [
    ("controller", "controller.__main__", "controller.cli", "controller.serving", "controller.api",
     "controller.ui"),
    ("controller.resources",),
    ("controller.workflows", "controller.webhooks", "controller.bulk"),
    ("controller.jobs", "controller.workers"),
    ("controller.services", "controller.notifications", "controller.lookups"),
    ("controller.access", "controller.capabilities", "controller.context", "controller.auth"),
    ("controller.registry", "controller.store", "controller.query", "controller.config", "controller.errors",
     "controller.prompts",
     "controller.collection", "controller.passwords", "controller.secrets", "controller.status",
     "controller.metrics"),
]
# Where a function-level ``controller.*`` import is allowed: start-up time of the CLI and of
# the app factory (each command loads only what it runs).
LAZY_IMPORTS_ALLOWED = ("controller/cli.py", "controller/__init__.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(module: str) -> int:
    """Index of ``module``'s floor (0 = top); the longest matching prefix wins."""
    best, floor = -1, None
    for index, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), index
    assert floor is not None, f"{module} is on no floor: add it to FLOORS"
    return floor


def _controller_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported controller module, line, inside a function) for each import in ``path``;
    ``from package import name`` counts as importing the submodule when ``name`` is one."""
    tree = ast.parse(path.read_text(), filename=str(path))
    lazy = {id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))}
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = []
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                is_module = (ROOT / Path(*sub.split("."))).with_suffix(".py").exists() or \
                    (ROOT / Path(*sub.split(".")) / "__init__.py").exists()
                targets.append(sub if is_module else module)
        else:
            continue
        out += [(t, node.lineno, id(node) in lazy) for t in dict.fromkeys(targets)
                if t == "controller" or t.startswith("controller.")]
    return out


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PKG.rglob("*.py")):
        me = _module_name(path)
        graph.setdefault(me, set()).update(t for t, _line, _lazy in _controller_imports(path) if t != me)
    return graph


def test_imports_point_down_the_floors():
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        me = _module_name(path)
        for target, line, _lazy in _controller_imports(path):
            if _floor(target) < _floor(me):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {target} (a floor up)")
    assert offenders == []


def test_no_import_circle():
    graph = _import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:   # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_no_import_inside_functions():
    """A lazy import hides a dependency (usually one dodging a circle); only the CLI and the
    app factory import lazily, for start-up time."""
    offenders = [f"{path.relative_to(ROOT)}:{line} imports {target}"
                 for path in sorted(PKG.rglob("*.py")) if path.relative_to(ROOT).as_posix() not in LAZY_IMPORTS_ALLOWED
                 for target, line, lazy in _controller_imports(path) if lazy]
    assert offenders == []
