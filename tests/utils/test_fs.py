"""Atomic directories, their recovery after a kill, and the writer lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from odqa.utils.fs import LockedError, atomic_dir, exclusive_lock, recover_dir


def test_atomic_dir_replaces_on_success_and_keeps_the_old_on_error(tmp_path: Path) -> None:
    target = tmp_path / "index"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "a").write_text("2")
        raise RuntimeError("killed")
    assert (target / "a").read_text() == "1" and sorted(p.name for p in tmp_path.iterdir()) == ["index"]


def test_recover_puts_back_an_index_killed_between_the_two_renames(tmp_path: Path) -> None:
    target = tmp_path / "index"
    old = tmp_path / ".index.old-1234abcd"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    (tmp_path / ".index.tmp-xyz").mkdir()  # a killed writer's half-built index
    assert recover_dir(target) is True
    assert (target / "manifest.json").is_file() and sorted(p.name for p in tmp_path.iterdir()) == ["index"]
    assert recover_dir(target) is False  # nothing to do


def test_a_second_writer_is_refused_even_from_another_process(tmp_path: Path) -> None:
    target = tmp_path / "index"
    with exclusive_lock(target):
        with pytest.raises(LockedError, match="another process is writing"), exclusive_lock(target):
            pass
        code = f"from odqa.utils.fs import exclusive_lock\nwith exclusive_lock({str(target)!r}): pass"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode != 0 and "LockedError" in proc.stderr
    with exclusive_lock(target):  # released when the block ends
        pass
