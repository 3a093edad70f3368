"""SIGKILL at random points of `odqa index` (fresh and --append) and `odqa delete`: afterwards the
index opens, its BM25 and FAISS sides hold the same passages, and it is exactly the old or the new
collection, never a mix; a rerun completes (``crash_driver.py`` does the killing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TRIALS = int(os.environ.get("ODQA_CRASH_TRIALS", "50"))


@pytest.mark.slow
def test_sigkill_never_leaves_a_corrupt_or_mixed_index(tmp_path: Path) -> None:
    driver = Path(__file__).with_name("crash_driver.py")
    proc = subprocess.run(
        [sys.executable, str(driver), str(tmp_path), str(TRIALS), "0"],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    print(summary)
    assert summary["failures"] == [], summary
    assert sum(summary["outcomes"].values()) == TRIALS
    assert summary["killed_while_running"] >= TRIALS // 2  # the kills really land mid-run
    assert summary["outcomes"]["old"] > 0 and summary["outcomes"]["new"] > 0
