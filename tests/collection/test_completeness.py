"""Meta-tests of the collection: module options cover every writable API field and every launch
prompt, every module is in the action group and is exercised by a test, and the docs name every
module."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from controller.prompts import PROMPTS
from controller.resources import build_registry

from .module_docs import FRAGMENTS, MODULES, documented_options, module_names, own_documentation
from .test_resources import CASES

REPO = Path(__file__).resolve().parents[2]
# resource type -> module, where the names differ
MODULE_OF = {"o_auth2_access_token": "token", "o_auth2_application": "application"}
# (resource, field) -> why the module has no option for it
# (resource, field) -> why its module has no option for it.  Empty today: every writable field of
# every resource is an option (identity fields included: `name`, `username`).
EXCLUDED: dict[tuple[str, str], str] = {}
# resources that can be written but have no module, and why
NO_MODULE: dict[str, str] = {
    "workflow_approval_template": "an approval template belongs to one workflow node: workflow_job_template "
                                  "(workflow_nodes) and workflow_job_template_node (approval) keep its fields",
}
# launch prompt (controller/prompts.py) -> why job_launch has no option for it
LAUNCH_EXCLUDED: dict[str, str] = {
    "timeout": "the module's `timeout` is how long it waits for the job (doc fragment wait); the job's own "
               "timeout stays the template's",
    "job_slice_count": "Turret does not slice jobs: the prompt exists for AWX clients only",
    "labels": "not offered yet: a new option would change the module's shape (a later, additive change)",
}
# the option type a launch prompt takes in a module, by the prompt's launch OPTIONS type (objects are
# given by name or id); a choice takes the type of its values
ANSIBLE_TYPES = {"string": "str", "boolean": "bool", "integer": "int", "json": "dict", "id": "str",
                 "list_of_ids": "list"}


def writable_resources():
    for res in build_registry():
        fields = [f.name for f in res.fields if f.writable]
        if fields and (res.creatable or res.updatable):
            yield res, fields


def test_every_writable_field_is_a_module_option():
    missing = []
    for res, fields in writable_resources():
        module = MODULE_OF.get(res.name, res.name)
        if res.name in NO_MODULE:
            continue
        assert (MODULES / f"{module}.py").exists(), f"{res.name} has no module {module}.py (or add it to NO_MODULE)"
        options = documented_options(module)
        missing += [f"{res.name}.{f}" for f in fields if f not in options and (res.name, f) not in EXCLUDED]
    assert missing == [], "fields with no module option (add the option or an EXCLUDED reason)"


def test_exclusions_are_not_stale():
    writable = {(res.name, f) for res, fields in writable_resources() for f in fields}
    assert set(EXCLUDED) <= writable
    assert all(reason for reason in [*EXCLUDED.values(), *NO_MODULE.values()])


def test_job_launch_options_are_the_launch_prompts():
    """job_launch offers the prompts the controller declares (the module cannot import them),
    typed as a launch takes them; besides them only the template's name and the shared options
    of the modules that start a job (connection, wait)."""
    options = documented_options("job_launch")
    shared = {name for fragment in ("auth", "wait")
              for name in own_documentation(FRAGMENTS / f"{fragment}.py")["options"]}
    offered = set(options) - shared - {"name"}
    assert offered == {p.key for p in PROMPTS} - set(LAUNCH_EXCLUDED)
    jt = build_registry()["job_template"]
    for prompt in PROMPTS:
        if prompt.key not in offered:
            continue
        option = options[prompt.key]
        if prompt.kind == "choice":
            values = [v for v, _label in jt.field(prompt.key).choices]
            assert option["choices"] == values, prompt.key
            assert option["type"] == ("int" if isinstance(values[0], int) else "str"), prompt.key
        else:
            assert option["type"] == ANSIBLE_TYPES[prompt.options_type], prompt.key


def test_launch_exclusions_are_not_stale():
    assert set(LAUNCH_EXCLUDED) <= {p.key for p in PROMPTS}
    assert all(LAUNCH_EXCLUDED.values())


def test_every_module_is_in_the_action_group():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert sorted(runtime["action_groups"]["controller"]) == module_names()


def test_every_module_has_a_test():
    text = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    used = set(re.findall(r"turret\.controller\.(\w+)", text)) | {c.module for c in CASES}
    assert set(module_names()) - used == set()


def test_docs_list_every_module():
    doc = (REPO / "docs" / "collection.md").read_text()
    assert [m for m in module_names() if f"`{m}`" not in doc] == []


def test_managed_side_code_parses_as_python_3_8():
    """Modules and module_utils run on the managed host: no syntax newer than 3.8."""
    for path in [*MODULES.glob("*.py"), *(REPO / "plugins" / "module_utils").glob("*.py")]:
        ast.parse(path.read_text(), filename=str(path), feature_version=(3, 8))
