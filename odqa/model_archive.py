"""Moving trained models between machines: one verified tarball per model.

Training costs hours on a CPU and minutes on a GPU, so a model is trained once and copied: a
model trained on a GPU machine reaches an offline server as one file.

An archive (``.tar.gz``) holds ``odqa-model.json`` first, then the model directory under
``model/``. The archive manifest names the role, the archive format, and every file with its size
and SHA-256; it also carries the model's own ``odqa_manifest.json`` (data, recipe, dev metrics)
when there is one. Checkpoints (``checkpoints/``) are left out: they resume training, they are not
the model.

:func:`import_model` refuses, with a message naming the problem, an archive that is not a readable
gzip tarball, has no manifest, has a member outside ``model/`` (absolute paths, ``..``, links,
devices), a file missing, extra, or whose size or checksum differs, or whose role differs from the
one asked for. It installs through a temporary directory renamed into place, so a refused or
interrupted import leaves the installed model untouched.

Usage::

    from odqa.model_archive import export_model, import_model
    export_model("/root/.cache/odqa/models/reader", "reader.tar.gz", role="reader")
    installed = import_model("reader.tar.gz", models_dir="/srv/odqa/models")   # -> .../models/reader
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from odqa.utils.fs import atomic_dir

FORMAT = "odqa-model-archive/1"
MANIFEST_NAME = "odqa-model.json"
PREFIX = "model"
#: sub-directories of a model directory that are not part of the model
SKIPPED_DIRS = frozenset({"checkpoints"})


class ModelArchiveError(ValueError):
    """An archive that cannot be exported or imported; the message names the file and the problem."""


@dataclass(frozen=True)
class ArchiveInfo:
    """What an archive holds: role, file count and bytes, and the model's own manifest (if any)."""

    role: str
    files: int
    bytes: int
    model_manifest: dict[str, Any] | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _model_files(model_dir: Path) -> list[Path]:
    files = []
    for path in sorted(model_dir.rglob("*")):
        rel = path.relative_to(model_dir)
        if rel.parts[0] in SKIPPED_DIRS or rel.name.startswith("."):
            continue
        if path.is_symlink():
            raise ModelArchiveError(f"{path}: symbolic links are not exported; copy the file in")
        if path.is_file():
            files.append(path)
    return files


def export_model(model_dir: str | Path, out_file: str | Path, role: str) -> ArchiveInfo:
    """Write ``model_dir`` as a verified archive ``out_file`` (atomically: temp file, then rename).

    :raises ModelArchiveError: when ``model_dir`` is not a model directory (no ``config.json``).
    """
    model_dir, out_file = Path(model_dir), Path(out_file)
    if not (model_dir / "config.json").is_file() and not (model_dir / "meta.json").is_file():
        raise ModelArchiveError(f"{model_dir}: not a model directory (no config.json)")
    files = _model_files(model_dir)
    entries: dict[str, dict[str, Any]] = {
        path.relative_to(model_dir).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        for path in files
    }
    own = model_dir / "odqa_manifest.json"
    model_manifest = json.loads(own.read_text(encoding="utf-8")) if own.is_file() else None
    manifest = {
        "format": FORMAT,
        "role": role,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": str(model_dir),
        "files": entries,
        "model_manifest": model_manifest,
    }
    out_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_file.name}.", dir=out_file.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
            for path in files:
                tar.add(path, arcname=f"{PREFIX}/{path.relative_to(model_dir).as_posix()}", recursive=False)
        os.replace(tmp, out_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    total = sum(int(e["bytes"]) for e in entries.values())
    return ArchiveInfo(role, len(entries), total, model_manifest)


def _read_manifest(tar: tarfile.TarFile, name: str) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST_NAME)
    except KeyError:
        raise ModelArchiveError(f"{name}: not an odqa model archive (no {MANIFEST_NAME})") from None
    handle = tar.extractfile(member)
    if handle is None:
        raise ModelArchiveError(f"{name}: {MANIFEST_NAME} is not a file")
    try:
        manifest: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelArchiveError(f"{name}: {MANIFEST_NAME} is not valid JSON ({e})") from None
    if manifest.get("format") != FORMAT:
        raise ModelArchiveError(
            f"{name}: unsupported archive format {manifest.get('format')!r} (this odqa reads {FORMAT})"
        )
    if not isinstance(manifest.get("role"), str) or not isinstance(manifest.get("files"), dict):
        raise ModelArchiveError(f"{name}: {MANIFEST_NAME} lacks 'role' or 'files'")
    return manifest


def _member_path(member: tarfile.TarInfo, name: str) -> str | None:
    """The path of a model file inside ``model/``; ``None`` for a directory entry.

    :raises ModelArchiveError: for absolute paths, ``..``, links, devices, or paths outside ``model/``.
    """
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise ModelArchiveError(f"{name}: unsafe path in archive: {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise ModelArchiveError(f"{name}: link or special file in archive: {member.name!r}")
    if path.parts[0] != PREFIX:
        raise ModelArchiveError(f"{name}: unexpected member {member.name!r} (files live under {PREFIX}/)")
    if member.isdir():
        return None
    if len(path.parts) < 2:
        raise ModelArchiveError(f"{name}: unexpected member {member.name!r}")
    return PurePosixPath(*path.parts[1:]).as_posix()


def _extract_verified(tar: tarfile.TarFile, manifest: dict[str, Any], dest: Path, name: str) -> None:
    expected: dict[str, dict[str, Any]] = manifest["files"]
    seen: set[str] = set()
    for member in tar:
        if member.name == MANIFEST_NAME:
            continue
        rel = _member_path(member, name)
        if rel is None:
            continue
        if rel not in expected:
            raise ModelArchiveError(f"{name}: {rel} is not listed in {MANIFEST_NAME}")
        handle = tar.extractfile(member)
        assert handle is not None  # a regular file (checked above)
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with target.open("wb") as out:
            while block := handle.read(1 << 20):
                digest.update(block)
                size += len(block)
                out.write(block)
        want = expected[rel]
        if size != want.get("bytes") or digest.hexdigest() != want.get("sha256"):
            raise ModelArchiveError(
                f"{name}: {rel} is corrupt ({size} bytes, sha256 {digest.hexdigest()[:12]}...; "
                f"the manifest says {want.get('bytes')} bytes, {str(want.get('sha256'))[:12]}...)"
            )
        seen.add(rel)
    missing = sorted(set(expected) - seen)
    if missing:
        raise ModelArchiveError(f"{name}: missing file(s) listed in the manifest: {', '.join(missing)}")


def read_archive(path: str | Path) -> tuple[dict[str, Any], ArchiveInfo]:
    """The manifest of archive ``path`` (members are not verified here; :func:`import_model` does)."""
    name = str(path)
    try:
        with tarfile.open(path, "r:gz") as tar:
            manifest = _read_manifest(tar, name)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ModelArchiveError(f"{name}: not a readable odqa model archive ({e})") from None
    files = manifest["files"]
    total = sum(int(f.get("bytes", 0)) for f in files.values())
    return manifest, ArchiveInfo(manifest["role"], len(files), total, manifest.get("model_manifest"))


def import_model(
    archive: str | Path,
    models_dir: str | Path,
    role: str | None = None,
    name: str | None = None,
    force: bool = False,
) -> Path:
    """Verify ``archive`` and install it as ``<models_dir>/<name or its role>``; return that path.

    :param role: the role the caller expects; an archive of another role is refused.
    :param force: replace an installed model of that name (otherwise refused).
    :raises ModelArchiveError: for every problem listed in the module docstring.
    """
    archive = Path(archive)
    label = str(archive)
    if not archive.is_file():
        raise ModelArchiveError(f"{label}: no such file")
    manifest, info = read_archive(archive)
    if role is not None and info.role != role:
        raise ModelArchiveError(f"{label}: holds a {info.role} model, not a {role}")
    target = Path(models_dir).expanduser() / (name or info.role)
    if target.exists() and not force:
        raise ModelArchiveError(f"{target} already exists: pass --force to replace it")
    try:
        with atomic_dir(target) as tmp, tarfile.open(archive, "r:gz") as tar:
            _extract_verified(tar, manifest, tmp, label)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ModelArchiveError(f"{label}: not a readable odqa model archive ({e})") from None
    return target
