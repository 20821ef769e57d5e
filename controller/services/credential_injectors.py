"""Credential type injectors: Jinja2 templates turning a credential's inputs into environment
variables, extra vars and files for a job.

Templates are untrusted (any superuser-defined type), so they are parsed and rendered only in
Jinja2's ``ImmutableSandboxedEnvironment``.  They may reference the type's input ids and
``tower.filename`` (one ``file.template``) or ``tower.filename.<name>`` (``file.template.<name>``).

Contracts:
  * :func:`check_injectors` -> list of problems (empty = valid), each naming the template.
  * :func:`render_injectors` -> ``{"env", "safe_env", "extra_vars", "files"}``; files are
    written with mode 0600 into the given directory; ``safe_env`` has secrets replaced by
    ``**********`` so it can be stored with the job.
"""
from __future__ import annotations

import os
import re
import tempfile
from typing import Any, Iterator

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .credential_inputs import FIELD_ID, as_dict, secret_fields, type_fields

INJECTOR_KINDS = ("env", "extra_vars", "file")
HIDDEN = "**********"
_FILE_KEY = re.compile(r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$")
# Variables the job runtime owns: a credential must not be able to redirect or spoof them.
ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "HOME", "JOB_ID",
    "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL",
    "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE",
    "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH",
))

_RENDER = ImmutableSandboxedEnvironment()
_STRICT = ImmutableSandboxedEnvironment(undefined=StrictUndefined)


class _Namespace:
    """``tower`` and a multi-file ``tower.filename``: attributes only, never printed."""

    def __init__(self, what: str) -> None:
        self._what = what

    def __str__(self) -> str:
        raise UndefinedError(f"Cannot directly reference reserved `{self._what}` namespace container.")


class _Missing:
    """``tower.filename`` when no single-file injector exists."""

    def __str__(self) -> str:
        raise UndefinedError("Must define unnamed file injector in order to reference `tower.filename`.")


def env_var_problem(name: str) -> str | None:
    """Why an injector may not set this environment variable (None = allowed)."""
    if not FIELD_ID.match(name):
        return f"Environment variable {name} is not a valid name."
    if name.startswith("ANSIBLE_"):
        return f"Environment variable {name} may affect Ansible configuration so its use is not allowed in credentials."
    if name in ENV_BLOCKLIST:
        return f"Environment variable {name} is not allowed to be used in credentials."
    return None


def _leaves(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf of a nested extra_vars structure."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, node


def _tower(file_keys: list[str], value: str) -> _Namespace:
    tower = _Namespace("tower")
    if "template" in file_keys:
        tower.filename = value  # type: ignore[attr-defined]
    elif file_keys:
        names = _Namespace("tower.filename")
        for key in file_keys:
            setattr(names, key.split(".", 1)[1], value)
        tower.filename = names  # type: ignore[attr-defined]
    else:
        tower.filename = _Missing()  # type: ignore[attr-defined]
    return tower


def check_injectors(injectors: Any, inputs: Any) -> list[str]:
    """Problems of an ``injectors`` object, given the type's ``inputs`` schema."""
    if not isinstance(injectors, dict):
        return ["injectors must be an object with any of env, extra_vars, file."]
    problems: list[str] = []
    templates: list[tuple[str, str, Any]] = []   # (kind, key, template)
    for kind, block in injectors.items():
        if kind not in INJECTOR_KINDS:
            problems.append(f"'{kind}' is not a valid injector type (use env, extra_vars or file).")
            continue
        if not isinstance(block, dict):
            problems.append(f"{kind} must be an object.")
            continue
        for key, value in block.items():
            if kind == "file" and not _FILE_KEY.match(key):
                problems.append(f"file: '{key}' must be 'template' or 'template.<name>'.")
            elif kind == "env" and env_var_problem(key):
                problems.append(env_var_problem(key))  # type: ignore[arg-type]
            elif kind == "extra_vars" and not FIELD_ID.match(key):
                problems.append(f"extra_vars: '{key}' is not a valid variable name.")
            leaves = list(_leaves(value, key)) if kind == "extra_vars" else [(key, value)]
            for path, leaf in leaves:
                if not isinstance(leaf, str):
                    problems.append(f"{kind}.{path} must be a string template.")
                else:
                    templates.append((kind, path, leaf))
    file_keys = [k for k in (injectors.get("file") or {}) if isinstance(k, str) and _FILE_KEY.match(k)] \
        if isinstance(injectors.get("file"), dict) else []
    if "template" in file_keys and len(file_keys) > 1:
        problems.append("Must use multi-file syntax when injecting multiple files.")
    if problems:
        return problems
    ids = [f["id"] for f in type_fields({"inputs": inputs})]
    namespace: dict[str, Any] = {i: "EXAMPLE" for i in ids}
    namespace["tower"] = _tower(file_keys, "EXAMPLE_FILENAME")
    for kind, key, text in templates:
        problem = _check_template(kind, key, text, set(namespace), namespace)
        if problem:
            problems.append(problem)
    return problems


def _check_template(kind: str, key: str, text: str, allowed: set[str], namespace: dict) -> str | None:
    try:
        parsed = _STRICT.parse(text)
    except TemplateSyntaxError as exc:
        return f"Syntax error rendering template for {key} inside of {kind} ({exc})"
    unknown = meta.find_undeclared_variables(parsed) - allowed
    if unknown:
        return f"{kind}.{key} uses an undefined field ({', '.join(sorted(unknown))})"
    try:
        _STRICT.from_string(text).render(namespace)
    except UndefinedError as exc:
        return f"{kind}.{key} uses an undefined field ({exc})"
    except SecurityError as exc:
        return f"Encountered unsafe code execution in {kind}.{key}: {exc}"
    except Exception as exc:  # any other template runtime error is the author's to fix
        return f"Error rendering template for {key} inside of {kind} ({type(exc).__name__}: {exc})"
    return None


def _namespaces(cred_type: dict, inputs: dict) -> tuple[dict, dict]:
    """(namespace with real values, namespace with secrets hidden) as AWX builds them."""
    secrets = secret_fields(cred_type)
    real: dict[str, Any] = {}
    safe: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, bool):
            real[key] = safe[key] = value
        elif value not in (None, ""):
            real[key] = value
            safe[key] = HIDDEN if key in secrets else value
    for spec in type_fields(cred_type):
        fid = spec["id"]
        if spec.get("type") == "boolean" and fid not in real:
            real[fid] = safe[fid] = bool(spec.get("default", False))
        if spec.get("format") == "ssh_private_key" and isinstance(real.get(fid), str) \
                and not real[fid].endswith("\n"):
            real[fid] += "\n"   # ssh refuses keys without the final newline
    return real, safe


def render_injectors(cred_type: dict, inputs: dict, tmpdir: str) -> dict[str, Any]:
    """Render ``cred_type``'s injectors with a credential's *decrypted* ``inputs``.

    Returns ``{"env": {...}, "safe_env": {...}, "extra_vars": {...}, "files": {path: content}}``.
    File injectors are written to new files (mode 0600) in ``tmpdir``; their paths are what
    ``tower.filename[.name]`` renders to.  Env names an injector may not set are skipped.
    extra_vars reach Ansible as unsafe text (values may hold secrets or Jinja that must never
    be rendered): the executor writes every var not from the job template ``!unsafe``.  The
    caller deletes ``tmpdir`` when the job ends.
    """
    injectors = as_dict(cred_type.get("injectors"))
    real, safe = _namespaces(cred_type, inputs)
    files: dict[str, str] = {}
    file_block = injectors.get("file") or {}
    tower = _tower([], "")
    named = _Namespace("tower.filename")
    for label, template in file_block.items():
        data = _RENDER.from_string(template).render(real)
        fd, path = tempfile.mkstemp(dir=tmpdir, prefix="credential_")
        with os.fdopen(fd, "w") as fh:
            fh.write(data)
        os.chmod(path, 0o600)
        files[path] = data
        if label == "template":
            tower.filename = path  # type: ignore[attr-defined]
        else:
            setattr(named, label.split(".", 1)[1], path)
            tower.filename = named  # type: ignore[attr-defined]
    real["tower"] = safe["tower"] = tower
    env: dict[str, str] = {}
    safe_env: dict[str, str] = {}
    for name, template in (injectors.get("env") or {}).items():
        if env_var_problem(name):
            continue
        env[name] = _RENDER.from_string(template).render(real)
        safe_env[name] = _RENDER.from_string(template).render(safe)

    def build(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: build(v) for k, v in node.items()}
        if isinstance(node, list):
            return [build(v) for v in node]
        return _RENDER.from_string(str(node)).render(real)

    return {"env": env, "safe_env": safe_env, "extra_vars": build(injectors.get("extra_vars") or {}),
            "files": files}
