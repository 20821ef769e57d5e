"""The collection's module documentation as users see it: rendered by the real ``ansible-doc``,
so doc fragments (``extends_documentation_fragment``) are merged exactly as Ansible merges them.

Also the module's own ``DOCUMENTATION`` (before fragments), for tests about what a module repeats:
a module keeps it in its sidecar ``plugins/modules/<name>.yml`` (top-level keys DOCUMENTATION,
EXAMPLES, RETURN; ansible-doc and ansible-test read it because the ``.py`` has none), a doc
fragment in its class.
"""
from __future__ import annotations

import ast
import functools
import importlib
import json
import subprocess
import tempfile
from pathlib import Path

import yaml

from .conftest import BIN, REPO, ansible_env

MODULES = REPO / "plugins" / "modules"
FRAGMENTS = REPO / "plugins" / "doc_fragments"


def module_names() -> list[str]:
    """Every module of the collection, by short name."""
    return sorted(p.stem for p in MODULES.glob("*.py") if p.stem != "__init__")


@functools.lru_cache(maxsize=None)
def rendered_docs() -> dict[str, dict]:
    """module -> its ``doc`` as ``ansible-doc --json`` gives it (one run for all modules, cached)."""
    names = [f"turret.controller.{m}" for m in module_names()]
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([str(BIN / "ansible-doc"), "--json", "-t", "module", *names],
                              env=ansible_env(Path(tmp)), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {name.rsplit(".", 1)[1]: entry["doc"] for name, entry in json.loads(proc.stdout).items()}


def documented_options(module: str) -> dict:
    """option -> its documentation, doc fragments included."""
    return rendered_docs()[module]["options"]


def module_documentation(module: str, variable: str = "DOCUMENTATION") -> dict:
    """The ``variable`` (DOCUMENTATION or RETURN) of ``module``'s sidecar YAML, fragments not merged."""
    return yaml.safe_load((MODULES / f"{module}.yml").read_text())[variable]


def own_documentation(path: Path, variable: str = "DOCUMENTATION") -> dict:
    """The YAML of a module-level (or doc-fragment class-level) string ``variable`` of ``path``."""
    tree = ast.parse(path.read_text())
    for node in [*tree.body, *(n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body)]:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == variable:
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{path.name} has no {variable}")


def fragment_variables(path: Path) -> dict[str, dict]:
    """variable -> its YAML, for every variable of the doc fragment ``path`` as Ansible's fragment
    loader sees it (the class imported: some variables are composed of others, resource.py)."""
    module = importlib.import_module(f"ansible_collections.turret.controller.plugins.doc_fragments.{path.stem}")
    fragment = module.ModuleDocFragment
    return {name: yaml.safe_load(getattr(fragment, name)) for name in dir(fragment) if name.isupper()}
