"""Ad hoc commands run through the executor: ``ansible <pattern> -m <module> -a <args>``."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..services.inventory_script import script_data
from ..services.variables import parse_vars
from ..store import jobs as q
from .spec import JobError, RunSpec
from .job_run import _inject, host_summaries, run_inputs, safe_vars, yaml_inventory


def status_counts(rows: list[dict]) -> dict:
    """AWX's one-status-per-host counts from host summary rows."""
    counts: dict[str, int] = {}
    for r in rows:
        status = ("dark" if r["dark"] else "failures" if r["failures"] else "changed" if r["changed"]
                  else "ok" if r["ok"] else "skipped")
        counts[status] = counts.get(status, 0) + 1
    return counts


def prepare(ctx, row: dict) -> RunSpec:
    inventory = ctx.store.get("inventories", row["inventory"]) if row.get("inventory") else None
    if inventory is None:
        raise JobError("Inventory is missing or undefined.")
    if row["module_name"] not in ctx.settings.AD_HOC_COMMANDS:
        raise JobError(f"Module {row['module_name']} is not allowed for ad hoc commands.")
    inv, host_ids = yaml_inventory(script_data(ctx, inventory, hostvars=True, towervars=True))
    workdir = tempfile.mkdtemp(prefix=f"adhoc-{row['id']}-", dir=str(Path(ctx.settings.data_dir) / "runs"))
    spec = RunSpec(ident=f"ad_hoc_command-{row['id']}", kind="adhoc", module=row["module_name"],
                   module_args=row.get("module_args") or "", host_pattern=row.get("limit") or "all",
                   inventory=inv, extravars=parse_vars(row.get("extra_vars") or ""),
                   forks=int(row.get("forks") or 0), verbosity=int(row.get("verbosity") or 0),
                   check=row.get("job_type") == "check", diff=bool(row.get("diff_mode")),
                   become=bool(row.get("become_enabled")), envvars={},
                   meta={"host_ids": host_ids, "cleanup": [workdir]})
    if row.get("credential"):
        cred = ctx.store.get("credentials", row["credential"])
        ctype = ctx.store.get("credential_types", cred["credential_type"])
        try:
            _inject(spec, ctype, run_inputs(ctx, cred, ctype, spec), {}, workdir, 0)
        except JobError:
            shutil.rmtree(workdir, ignore_errors=True)      # nothing of a command that never ran stays behind
            raise
    # no template owns these vars: Jinja in them is rendered only when the setting is "always"
    spec.safe_vars = safe_vars(ctx.settings.ALLOW_JINJA_IN_EXTRA_VARS, {}, spec.extravars)
    return spec


def finish(ctx, row: dict, result, run_data: dict) -> dict:
    for path in run_data.get("meta", {}).get("cleanup", []):
        shutil.rmtree(path, ignore_errors=True)
    rows = host_summaries(run_data.get("stats") or {}, row["id"], {}, "")
    return {"host_counts": status_counts(rows)}


def impact(ctx, row: dict) -> int:
    forks = int(row.get("forks") or 0) or 5
    return min(forks, max(q.host_count(ctx.store, row.get("inventory")), 1)) + 1

