"""Inventory sources of AWX's cloud and constructed kinds, run with their real inventory plugin.

As AWX does, an update writes an inventory plugin configuration file (the source's
``source_vars`` with ``plugin:`` set to the kind's plugin) into a private folder, injects the
source's credential (its type's env/file injectors) and runs ``ansible-inventory`` on it.  A
``constructed`` source reads its inventory's ``input_inventories`` (each rendered as a YAML
inventory file of the same folder, in order) and then the ``ansible.builtin.constructed``
configuration, which groups and composes over them.  The plugin's collection must be installed
where ansible finds collections (the controller's collections path, ``ANSIBLE_COLLECTIONS_PATH``
of the controller's environment, the default user and system paths, or Python's path): when it
is not, the update ends ``error`` saying which collection to install.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from ..collection import collections_path
from ..services import credential_inputs as ci
from ..services.credential_injectors import render_injectors
from ..services.inventory_script import script_data
from ..services.variables import parse_vars
from ..store import links
from .job_run import run_inputs, yaml_inventory
from .spec import JobError, RunSpec

# kind -> (plugin FQCN, configuration file name the plugin accepts, credential type namespace)
PLUGINS: dict[str, tuple[str, str, str]] = {
    "ec2": ("amazon.aws.aws_ec2", "aws_ec2.yml", "aws"),
    "gce": ("google.cloud.gcp_compute", "gcp_compute.yml", "gce"),
    "azure_rm": ("azure.azcollection.azure_rm", "azure_rm.yml", "azure_rm"),
    "vmware": ("community.vmware.vmware_vm_inventory", "vmware_vm_inventory.yml", "vmware"),
    "openstack": ("openstack.cloud.openstack", "openstack.yml", "openstack"),
    "satellite6": ("theforeman.foreman.foreman", "foreman.yml", "satellite6"),
    "controller": ("awx.awx.controller", "controller.yml", "controller"),
    "insights": ("redhatinsights.insights.insights", "insights.yml", "insights"),
    "rhv": ("ovirt.ovirt.ovirt", "ovirt.yml", "rhv"),
    "terraform": ("cloud.terraform.terraform_state", "terraform_state.yml", "terraform"),
    "openshift_virtualization": ("kubevirt.core.kubevirt", "kubevirt.yml", "kubernetes_bearer_token"),
    "constructed": ("ansible.builtin.constructed", "zz_constructed.yml", ""),
}
# the inventory's ordered input inventories (table:left:right, as the Relation key)
INPUT_INVENTORIES = "inventory_input_inventories:inventory_id:input_id"
# AWX lets these run without a credential (ec2: an instance role; constructed: no service)
CREDENTIAL_OPTIONAL = ("ec2", "openshift_virtualization", "constructed")
_DEFAULT_PATHS = ("~/.ansible/collections", "/usr/share/ansible/collections")


def search_path() -> str:
    """ANSIBLE_COLLECTIONS_PATH for a plugin inventory update: the controller's own collection
    first, then what the controller's environment names, then ansible's default places."""
    extra = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS") or ""
    parts = [collections_path(), *[p for p in extra.split(os.pathsep) if p],
             *[os.path.expanduser(p) for p in _DEFAULT_PATHS]]
    return os.pathsep.join(dict.fromkeys(parts))


def plugin_installed(fqcn: str, path: str) -> bool:
    """Is the inventory plugin ``fqcn`` in a collection under ``path`` or on Python's path
    (where pip installs the ``ansible`` package's collections)?"""
    namespace, collection, name = fqcn.split(".")
    if (namespace, collection) == ("ansible", "builtin"):
        return True
    roots = [*path.split(os.pathsep), *sys.path]
    for root in roots:
        for base in (Path(root) / "ansible_collections", Path(root)):
            if base.name == "ansible_collections" or base.parent.name == "ansible_collections":
                plugin = base / namespace / collection / "plugins" / "inventory" / f"{name}.py"
                if plugin.is_file():
                    return True
    return False


def _write_inputs(ctx, row: dict, folder: Path) -> list[str]:
    """The input inventories of a constructed source's inventory, as YAML inventory files."""
    names = []
    table, left, right = INPUT_INVENTORIES.split(":")
    ids = links.linked_ids(ctx.store, table, left, right, row["inventory"], ordered=True)
    if not ids:
        raise JobError("A constructed inventory source needs input inventories: add them to the inventory's "
                       "input_inventories.")
    for n, inventory_id in enumerate(ids):
        inventory = ctx.store.get("inventories", inventory_id)
        if inventory is None:
            continue
        data, _ids = yaml_inventory(script_data(ctx, inventory, hostvars=True, towervars=False), run=False)
        name = f"{n:03d}_input_{inventory_id}.yml"
        (folder / name).write_text(yaml.safe_dump(data, default_flow_style=False))
        names.append(inventory["name"])
    return names


def prepare(ctx, row: dict) -> RunSpec:
    """The RunSpec of an update of a plugin-kind source (see the module docstring)."""
    fqcn, filename, _namespace = PLUGINS[row["source"]]
    path = search_path()
    if not plugin_installed(fqcn, path):
        collection = ".".join(fqcn.split(".")[:2])
        raise JobError(f"The inventory plugin {fqcn} of source kind {row['source']!r} is not installed: install "
                       f"the {collection} collection (ansible-galaxy collection install {collection}) where the "
                       f"controller finds collections.")
    folder = Path(tempfile.mkdtemp(prefix=f"inventory_update-{row['id']}-",
                                   dir=str(Path(ctx.settings.data_dir) / "runs")))
    try:
        return _spec(ctx, row, folder, fqcn, filename, path)
    except JobError:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _spec(ctx, row: dict, folder: Path, fqcn: str, filename: str, path: str) -> RunSpec:
    config = {**parse_vars(row.get("source_vars") or ""), "plugin": fqcn}
    label = fqcn
    if row["source"] == "constructed":
        label = f"constructed over {', '.join(_write_inputs(ctx, row, folder))}"
    (folder / filename).write_text(yaml.safe_dump(config, default_flow_style=False))
    spec = RunSpec(ident=f"inventory_update-{row['id']}", kind="inventory",
                   inventory=str(folder if row["source"] == "constructed" else folder / filename),
                   project_dir=str(folder), envvars={"ANSIBLE_COLLECTIONS_PATH": path},
                   verbosity=int(row.get("verbosity") or 0), timeout=int(row.get("timeout") or 0),
                   limit=row.get("limit") or "",     # AWX: ansible-inventory --limit (the executor's part)
                   meta={"source_label": label, "cleanup": [str(folder)]})
    cred = ctx.store.get("credentials", row["credential"]) if row.get("credential") else None
    if cred is not None:
        ctype = ctx.store.get("credential_types", cred["credential_type"])
        inputs = run_inputs(ctx, cred, ctype, spec)
        missing = ci.missing_required(ctype, inputs)
        if missing:
            raise JobError(f"Credential {cred['name']!r} is missing required inputs: {', '.join(missing)}.")
        rendered = render_injectors(ctype, inputs, str(folder))
        spec.envvars.update({k: str(v) for k, v in (rendered.get("env") or {}).items()})
        secret_keys = ci.secret_fields(ctype)
        spec.secrets += [str(v) for k, v in inputs.items() if k in secret_keys and v]
    return spec


__all__ = ["PLUGINS", "CREDENTIAL_OPTIONAL", "search_path", "plugin_installed", "prepare"]
