"""Meta-tests: architecture rules and derived artefacts stay true as the code grows."""
from __future__ import annotations

import ast
from pathlib import Path

from controller.resources import build_registry
from controller.services.docs import render

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "controller"

# module prefix -> packages allowed to import it (DESIGN §3 "import rules worth a test")
IMPORT_RULES = {
    "flask": ("controller/api/", "controller/ui/", "controller/__init__.py"),
    "werkzeug": ("controller/api/", "controller/ui/"),
    "waitress": ("controller/cli.py",),
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
