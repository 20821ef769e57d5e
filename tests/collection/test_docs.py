"""The modules' option documentation says something, and says it once: an option group that
several modules share lives in a doc fragment (plugins/doc_fragments/), and no description is
the field name turned into a sentence ("The forks of the job template.")."""
from __future__ import annotations

import re
from collections import defaultdict

import yaml

from .module_docs import FRAGMENTS, MODULES, fragment_variables, module_documentation, module_names, rendered_docs

# "The is system auditor of the user.", "The ask limit on launch of the job template."
FILLER = re.compile(r"^The [\w ]+ of the [\w ]+\.?$")


def descriptions(option: dict) -> list[str]:
    text = option.get("description") or []
    return [text] if isinstance(text, str) else list(text)


def test_every_option_has_a_description_that_is_not_its_name_restated():
    """Every option has text lines (a stray ``key: value`` line would be a dict), none of them filler."""
    filler, missing = [], []
    for module, doc in rendered_docs().items():
        for name, option in doc["options"].items():
            lines = descriptions(option)
            missing += [] if lines and all(isinstance(line, str) for line in lines) else [f"{module}.{name}"]
            filler += [f"{module}.{name}: {line}" for line in lines if FILLER.match(str(line))]
    assert missing == []
    assert filler == []


def test_every_module_is_documented_in_its_sidecar_only():
    """A module's DOCUMENTATION/EXAMPLES/RETURN live in plugins/modules/<name>.yml, and only there
    (ansible-doc reads the sidecar only when the .py has no DOCUMENTATION: two copies would drift)."""
    in_code = [m for m in module_names() if re.search(r"^(DOCUMENTATION|EXAMPLES|RETURN)\b",
                                                      (MODULES / f"{m}.py").read_text(), re.M)]
    assert in_code == []
    for module in module_names():
        sidecar = yaml.safe_load((MODULES / f"{module}.yml").read_text())
        assert sorted(sidecar) == ["DOCUMENTATION", "EXAMPLES", "RETURN"], module
        assert sidecar["DOCUMENTATION"]["module"] == module
        assert isinstance(sidecar["EXAMPLES"], str) and f"turret.controller.{module}:" in sidecar["EXAMPLES"], module
        assert isinstance(sidecar["RETURN"], dict), module
    assert sorted(p.stem for p in MODULES.glob("*.yml")) == module_names()


def test_no_option_is_documented_twice_in_module_files():
    """The same option with the same text in two modules belongs in a doc fragment."""
    where: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module in module_names():
        for name, option in module_documentation(module)["options"].items():
            where[(name, yaml.safe_dump(option, sort_keys=True))].append(module)
    repeated = {name: modules for (name, _), modules in where.items() if len(modules) > 1}
    assert repeated == {}


def test_every_doc_fragment_is_used_and_its_options_reach_the_modules():
    """Each fragment variable is extended by some module, and ansible-doc shows its options there."""
    docs = rendered_docs()
    used = defaultdict(list)
    for module in module_names():
        for slug in module_documentation(module).get("extends_documentation_fragment", []):
            used[slug].append(module)
    for path in sorted(FRAGMENTS.glob("*.py")):
        for variable, doc in fragment_variables(path).items():
            slug = f"turret.controller.{path.stem}" + ("" if variable == "DOCUMENTATION" else f".{variable.lower()}")
            if variable == "PLUGINS":       # auth.PLUGINS serves the inventory and lookup plugins
                continue
            assert used[slug], f"{slug} is not used by any module"
            options = doc["options"]
            for module in used[slug]:
                assert set(options) <= set(docs[module]["options"]), (slug, module)
