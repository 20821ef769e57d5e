"""The release artefacts, tried as a new user would: `pip wheel .` gives one wheel holding the
`controller` package AND the turret.controller collection (as ansible_collections/turret/
controller, where ansible-core finds it on sys.path); the sdist rebuilds the very same wheel; a
fresh venv outside the checkout with only that wheel installed serves the API, runs the Demo
Job Template and `ansible-playbook turret.controller.ping` with no collections path set.

Fast tests here pin the single source of the version and how the controller finds its
collection; the slow ones build and install for real (pip's cache lives in <repo>/.cache/pip,
so only the first run downloads anything).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from controller.collection import collections_path_for, find_collection_root
from controller.config import VERSION

from .conftest import LiveController, _wait_ready, free_port

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PIP_CACHE = REPO / ".cache" / "pip"
COLLECTION = "ansible_collections/turret/controller/"
DIST_INFO = f"turret-{VERSION}.dist-info/"
COLLECTION_DIRS = ("plugins", "playbooks", "meta")
ADMIN_PASSWORD = "wheel-admin-pw-123"


# --- the version in one place ------------------------------------------------------------------

def test_pyproject_takes_the_version_from_the_controller_package():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "controller.config.VERSION"}


def test_galaxy_yml_version_matches_the_controller_version():
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"], str(galaxy["version"])) == ("turret", "controller", VERSION)


# --- how the controller finds its collection ----------------------------------------------------

def _collection_at(path: Path) -> Path:
    (path / "playbooks").mkdir(parents=True)
    (path / "meta").mkdir()
    (path / "meta" / "runtime.yml").write_text("requires_ansible: '>=2.16.0'\n")
    return path


def test_an_installed_controller_uses_the_collection_installed_beside_it(tmp_path):
    site = tmp_path / "site-packages"
    (site / "controller").mkdir(parents=True)
    mine = _collection_at(site / "ansible_collections" / "turret" / "controller")
    other = _collection_at(tmp_path / "elsewhere" / "ansible_collections" / "turret" / "controller")
    # another copy earlier on sys.path does not win over the one from the same installation
    assert find_collection_root(site / "controller", [str(other.parents[2]), str(site)]) == mine.resolve()
    assert collections_path_for(mine.resolve()) == str(site.resolve())


def test_a_checkout_uses_its_root(tmp_path):
    root = _collection_at(tmp_path / "checkout")
    (root / "galaxy.yml").write_text("namespace: turret\nname: controller\n")
    (root / "controller").mkdir()
    assert find_collection_root(root / "controller", []) == root.resolve()
    (root / "ansible_collections" / "turret").mkdir(parents=True)
    (root / "ansible_collections" / "turret" / "controller").symlink_to(Path("..", ".."))
    assert find_collection_root(root / "controller", []) == root.resolve()
    assert collections_path_for(root.resolve()) == str(root.resolve())


def test_the_collection_on_sys_path_is_the_last_resort_and_absence_is_explained(tmp_path):
    (tmp_path / "lib" / "controller").mkdir(parents=True)
    found = _collection_at(tmp_path / "path" / "ansible_collections" / "turret" / "controller")
    assert find_collection_root(tmp_path / "lib" / "controller", [str(tmp_path / "path")]) == found.resolve()
    with pytest.raises(RuntimeError, match="turret.controller collection was not found"):
        find_collection_root(tmp_path / "lib" / "controller", [str(tmp_path / "nothing")])


# --- build, install, run -------------------------------------------------------------------------

def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _copy_checkout(dest: Path) -> Path:
    """What a fresh clone holds (git's tracked and not-ignored files).  Building from a copy, not
    in place: setuptools reuses <src>/build/lib, so a stale file there would reach the wheel, and
    the work tree is shared."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=REPO, capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout to know which files a clone holds")
    for rel in filter(None, listed.split("\0")):
        src, target = REPO / rel, dest / rel
        if not os.path.lexists(src):
            continue  # deleted in the work tree, not yet in git
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, target)
    return dest


def _build_env() -> dict[str, str]:
    return {**os.environ, "PIP_CACHE_DIR": str(PIP_CACHE)}


def _wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return {n for n in zf.namelist() if not n.endswith("/")}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The wheel built from a clean copy of the checkout, the sdist, the wheel built from the
    sdist, and the copy itself."""
    work = tmp_path_factory.mktemp("wheel")
    src = _copy_checkout(work / "src")
    _run([BIN / "python", "-m", "pip", "wheel", "--no-deps", "-w", work / "wheel", "."], src, _build_env())
    _run([BIN / "python", "-m", "build", "--sdist", "--outdir", work / "sdist", "."], src, _build_env())
    [sdist] = (work / "sdist").glob("turret-*.tar.gz")
    _run([BIN / "python", "-m", "pip", "wheel", "--no-deps", "-w", work / "from-sdist", sdist], work, _build_env())
    [wheel] = (work / "wheel").glob("turret-*.whl")
    [again] = (work / "from-sdist").glob("turret-*.whl")
    return {"src": src, "wheel": wheel, "sdist": sdist, "from_sdist": again}


@pytest.mark.slow
def test_the_wheel_holds_the_controller_and_the_collection_and_nothing_else(built):
    names = _wheel_names(built["wheel"])
    assert built["wheel"].name == f"turret-{VERSION}-py3-none-any.whl"
    strays = sorted(n for n in names if not n.startswith(("controller/", COLLECTION, DIST_INFO)))
    assert strays == []
    junk = ("__pycache__", ".pyc", ".gitkeep", "/tests/", "/bench/", "/docs/", ".venv", "egg-info",
            COLLECTION + "controller/", COLLECTION + "ansible_collections/", COLLECTION + "pyproject.toml")
    assert sorted(n for n in names if any(j in n for j in junk)) == []

    src = built["src"]
    shipped = {p.relative_to(src).as_posix() for p in (src / "controller").rglob("*")
               if p.is_file() and (p.suffix in (".py", ".html", ".css", ".js") or p.parent.name == "demo")}
    assert sorted(shipped - names) == []   # e.g. a new sub-package missing from pyproject's list
    collection = {COLLECTION + p.relative_to(src).as_posix()
                  for d in COLLECTION_DIRS for p in (src / d).rglob("*")
                  if p.is_file() and p.name != ".gitkeep" and "__pycache__" not in p.parts}
    collection.add(COLLECTION + "galaxy.yml")
    assert {COLLECTION + "playbooks/hello_world.yml", COLLECTION + "playbooks/ping.yml",
            COLLECTION + "meta/runtime.yml", COLLECTION + "plugins/modules/job_launch.py"} <= collection
    assert sorted(collection - names) == []
    assert sorted(n for n in names if n.startswith(COLLECTION) and n not in collection) == []

    with zipfile.ZipFile(built["wheel"]) as zf:
        metadata = zf.read(DIST_INFO + "METADATA").decode()
        entry_points = zf.read(DIST_INFO + "entry_points.txt").decode()
    assert f"\nVersion: {VERSION}\n" in metadata
    assert "turret = controller.cli:main" in entry_points


@pytest.mark.slow
def test_the_sdist_rebuilds_the_same_wheel(built):
    assert built["sdist"].name == f"turret-{VERSION}.tar.gz"
    with tarfile.open(built["sdist"]) as tf:
        members = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    assert {"pyproject.toml", "MANIFEST.in", "galaxy.yml", "meta/runtime.yml", "playbooks/ping.yml",
            "controller/config.py", "controller/ui/static/turret.js"} <= members
    dev_only = ("tests/", "bench/", ".venv", ".git/", ".ci/", "ansible_collections/")
    litter = ("__pycache__", ".pyc", ".gitkeep")
    assert sorted(n for n in members if n.startswith(dev_only) or any(j in n for j in litter)) == []
    assert _wheel_names(built["from_sdist"]) - {DIST_INFO + "RECORD"} == \
        _wheel_names(built["wheel"]) - {DIST_INFO + "RECORD"}
    with zipfile.ZipFile(built["wheel"]) as a, zipfile.ZipFile(built["from_sdist"]) as b:
        differing = [n for n in a.namelist() if n.startswith(COLLECTION) and a.read(n) != b.read(n)]
    assert differing == []


def _user_env(venv: Path, ansible_home: Path) -> dict[str, str]:
    """A shell of a user who only pip-installed the wheel: no PYTHONPATH, no ANSIBLE_*
    (so no collections path), no TURRET_*, the project's venv and checkout off PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TURRET_", "ANSIBLE_", "PYTHON", "VIRTUAL_ENV", "CONTROLLER_", "TOWER_"))}
    keep = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not Path(p).resolve().is_relative_to(REPO)]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *keep])
    # ansible's own default collections path (~/.ansible/collections) made empty and private;
    # ANSIBLE_HOME points into tmp, never at the checkout.
    env["ANSIBLE_HOME"] = str(ansible_home)
    return env


@pytest.fixture(scope="module")
def user(built, tmp_path_factory) -> dict:
    """A fresh venv (outside the checkout) with the wheel pip-installed, dependencies from the
    package index; the environment and working folder of its user."""
    work = tmp_path_factory.mktemp("user")
    assert not work.resolve().is_relative_to(REPO)
    venv = work / "venv"
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", venv], work)
    env = _user_env(venv, work / "ansible-home")
    _run([venv / "bin" / "python", "-m", "pip", "install", "--cache-dir", PIP_CACHE, built["wheel"]], work, env)
    print(f"fresh venv + pip install of the wheel: {time.monotonic() - started:.1f}s")
    site = Path(_run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     work, env).strip())
    return {"work": work, "venv": venv, "env": env, "site": site}


@pytest.mark.slow
def test_the_installed_wheel_finds_its_own_collection(user):
    site, env, work, venv = user["site"], user["env"], user["work"], user["venv"]
    where = _run([venv / "bin" / "python", "-c",
                  "import controller, controller.collection as c; "
                  "print(controller.__file__); print(c.collection_root()); print(c.collections_path())"],
                 work, env).split()
    assert where == [str(site / "controller" / "__init__.py"),
                     str(site / "ansible_collections" / "turret" / "controller"), str(site)]
    assert _run([venv / "bin" / "turret", "--version"], work, env).strip() == f"turret {VERSION}"


@pytest.mark.slow
def test_the_installed_wheel_serves_and_runs_the_demo_job(user):
    work, env = user["work"], {**user["env"], "TURRET_ADMIN_PASSWORD": ADMIN_PASSWORD}
    port, data = free_port(), work / "data"
    with open(work / "server.stdout.log", "ab") as out, open(work / "server.stderr.log", "ab") as err:
        proc = subprocess.Popen([str(user["venv"] / "bin" / "turret"), "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--data-dir", str(data)], cwd=work, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
    live = LiveController(proc, port, data, ADMIN_PASSWORD, work)   # reads the two logs above
    try:
        try:
            _wait_ready(live, 60)
        except RuntimeError as e:
            pytest.fail(f"{e}\n{live.stderr()[-4000:]}")
        with live.client() as api:
            ping = api.get("/api/v2/ping/").json()
            assert ping["turret_version"] == VERSION
            [jt] = api.get("/api/v2/job_templates/", params={"name": "Demo Job Template"}).json()["results"]
            project = api.get(f"/api/v2/projects/{jt['project']}/").json()
            # the git Demo Project (AWX's), whose first update may still run: its checkout is there already
            assert project["name"] == "Demo Project" and jt["playbook"] == "hello_world.yml"
            assert project["status"] in ("pending", "waiting", "running", "successful")
            launched = api.post(f"/api/v2/job_templates/{jt['id']}/launch/", json={})
            assert launched.status_code == 201, launched.text
            job_id = launched.json()["job"]
            deadline = time.monotonic() + 120
            while (job := api.get(f"/api/v2/jobs/{job_id}/").json())["status"] not in (
                    "successful", "failed", "error", "canceled") and time.monotonic() < deadline:
                time.sleep(0.5)
            stdout = api.get(f"/api/v2/jobs/{job_id}/stdout/", params={"format": "txt"}).text
            assert job["status"] == "successful", (job, stdout, live.stderr()[-4000:])
            assert '"msg": "Hello World!"' in stdout and "ok=1" in stdout and "failed=0" in stdout
    finally:
        live.stop()


@pytest.mark.slow
def test_the_installed_collection_runs_with_ansible_playbook(user):
    work, env, site = user["work"], {**user["env"], "ANSIBLE_NOCOLOR": "1"}, user["site"]
    ran = _run([user["venv"] / "bin" / "ansible-playbook", "turret.controller.ping"], work, env, timeout=300)
    assert "TASK [Ping localhost]" in ran and "ok=1" in ran and "failed=0" in ran
    listed = _run([user["venv"] / "bin" / "ansible-galaxy", "collection", "list", "turret.controller"], work, env)
    assert str(site / "ansible_collections") in listed
    assert any(line.split() == ["turret.controller", VERSION] for line in listed.splitlines())
