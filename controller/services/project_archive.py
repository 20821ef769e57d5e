"""``scm_type: archive`` projects (AWX's "Remote Archive"): a .tar.gz / .tgz / .tar.bz2 /
.tar.xz / .tar / .zip downloaded from an http(s) URL (or, when local SCM URLs are allowed, a
``file://`` URL or path) and unpacked as the project.  The revision is the archive's SHA-256.

The project update playbook runs this module (``python -m controller.services.project_archive``)
so the download shows in the update's output and obeys its timeout and cancel.  Its inputs come
from the environment (a URL may carry a login: never on a command line), its result is one
JSON line on stdout.  Bounded: at most ``TURRET_ARCHIVE_MAX_BYTES`` downloaded and unpacked;
members that would land outside the project (``..``, absolute paths, links out, devices) make
the whole update fail before anything is replaced.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

_CHUNK = 1 << 16


class ArchiveError(Exception):
    """The archive cannot become the project (the message says why)."""


def download(url: str, target: Path, max_bytes: int, username: str = "", password: str = "") -> str:
    """Copy ``url`` into ``target``; returns the SHA-256 hex digest.  Refuses more than
    ``max_bytes``.  ``file:`` URLs and plain paths are read from this machine."""
    digest = hashlib.sha256()
    size = 0
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        request = urllib.request.Request(url, headers={"User-Agent": "turret-project-update"})
        if username or password:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, url, username, password)
            opener = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(manager))
        else:
            opener = urllib.request.build_opener()
        source = opener.open(request, timeout=60)
    elif parts.scheme in ("file", ""):
        source = open(unquote(parts.path) if parts.scheme else url, "rb")
    else:
        raise ArchiveError(f"Unsupported archive URL scheme {parts.scheme!r}: use http(s).")
    with source, open(target, "wb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise ArchiveError(f"The archive is larger than the {max_bytes} bytes allowed.")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _safe_name(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or "\x00" in name:
        raise ArchiveError(f"Archive member {name!r} would be written outside the project.")
    return str(path)


def _unpack_zip(archive: Path, dest: Path, max_bytes: int) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:
            _safe_name(info.filename)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ArchiveError(f"Archive member {info.filename!r} is a symbolic link.")
        if sum(i.file_size for i in members) > max_bytes:
            raise ArchiveError(f"The archive unpacks to more than the {max_bytes} bytes allowed.")
        zf.extractall(dest)


def _unpack_tar(archive: Path, dest: Path, max_bytes: int) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        for member in members:
            _safe_name(member.name)
            if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
                raise ArchiveError(f"Archive member {member.name!r} is not a file, folder or link.")
        if sum(m.size for m in members if m.isfile()) > max_bytes:
            raise ArchiveError(f"The archive unpacks to more than the {max_bytes} bytes allowed.")
        try:
            # the "data" filter refuses links leaving the folder and drops set-id bits
            tf.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            raise ArchiveError(f"Unsafe archive member: {exc}") from None


def unpack(archive: Path, dest: Path, max_bytes: int) -> None:
    """Unpack ``archive`` into the new folder ``dest``.  An archive whose members all sit in
    one top folder (``project-1.0/...``, as GitHub's and most release archives) is unpacked
    with that folder stripped, as AWX does."""
    dest.mkdir(parents=True)
    if zipfile.is_zipfile(archive):
        _unpack_zip(archive, dest, max_bytes)
    elif tarfile.is_tarfile(archive):
        _unpack_tar(archive, dest, max_bytes)
    else:
        raise ArchiveError("The download is not a tar or zip archive.")
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        top = entries[0]
        for child in list(top.iterdir()):
            child.rename(dest / child.name)
        top.rmdir()


def update_project(url: str, project_path: Path, max_bytes: int, username: str = "", password: str = "") -> dict:
    """Download and unpack the archive as ``project_path`` (replaced only when both steps
    succeed); returns ``{"revision": sha256, "changed": bool}``."""
    project_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".archive-", dir=project_path.parent) as tmp:
        archive = Path(tmp) / "download"
        revision = download(url, archive, max_bytes, username, password)
        stamp = project_path / ".turret_archive_revision"
        if stamp.is_file() and stamp.read_text().strip() == revision:
            return {"revision": revision, "changed": False}
        staged = Path(tmp) / "project"
        unpack(archive, staged, max_bytes)
        (staged / ".turret_archive_revision").write_text(revision + "\n")
        if project_path.exists():
            shutil.rmtree(project_path)
        staged.rename(project_path)
    return {"revision": revision, "changed": True}


def main() -> int:
    """Entry point for the project update playbook (inputs from the environment)."""
    env = os.environ
    try:
        result = update_project(env["TURRET_ARCHIVE_URL"], Path(env["TURRET_ARCHIVE_DEST"]),
                                int(env.get("TURRET_ARCHIVE_MAX_BYTES") or 0) or 100 * 1024 * 1024,
                                env.get("TURRET_SCM_USERNAME", ""), env.get("TURRET_SCM_PASSWORD", ""))
    except (ArchiveError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        print(f"Archive update failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
