"""Atomic writes of files and whole index directories."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Write a directory atomically: yield a fresh temp dir beside ``target``; on success it replaces
    ``target``; on error it is removed and ``target`` is left untouched.

    The swap is two renames (``target`` -> ``target.old-*``, temp -> ``target``) on the same
    filesystem, so a reader never sees a half-written directory; a crash between them leaves the old
    index intact under ``.old-*``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def recover_dir(target: str | Path) -> bool:
    """Finish or undo what a killed :func:`atomic_dir` left: when ``target`` is missing but the
    previous version waits under ``.<name>.old-*`` (killed between the two renames), put it back;
    temp dirs of killed writers are removed. Returns whether ``target`` was restored.

    Call it with the writer lock held (or before any writer starts).
    """
    target = Path(target)
    if not target.parent.is_dir():
        return False
    restored = False
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if not target.exists() and olds:
        os.replace(olds[-1], target)
        olds = olds[:-1]
        restored = True
    for leftover in [*olds, *target.parent.glob(f".{target.name}.tmp-*")]:
        shutil.rmtree(leftover, ignore_errors=True)
    return restored


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a text file via a temp file in the same directory and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


class LockedError(RuntimeError):
    """Another process holds the lock (a second writer on one index)."""


@contextmanager
def exclusive_lock(target: str | Path, what: str = "index") -> Iterator[None]:
    """Hold ``<target>.lock`` (``flock``, released when the process dies, even by SIGKILL) for the
    block; a second holder fails at once with :class:`LockedError` naming the path."""
    import fcntl

    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.lock"
    fh = open(lock, "a+")  # noqa: SIM115 - held for the block
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(
                f"{path}: another process is writing this {what} (lock {lock}); wait for it to finish"
            ) from None
        yield
    finally:
        fh.close()
