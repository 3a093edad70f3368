"""benchmarks/check_2cr.py: re-runs a condition's command, compares its scores, skips GPU-only runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "check_2cr.py"


Run = subprocess.CompletedProcess[str]


def check(tmp_path: Path, conditions: list[dict[str, object]], *args: str) -> Run:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"conditions": conditions}), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(spec), *args], capture_output=True, text=True, check=False
    )


def writer(results: Path, f1: float) -> str:
    """A command that writes ``{"dev": {"f1": f1}}`` to ``results``."""
    return f"python -c \"import json; json.dump({{'dev': {{'f1': {f1}}}}}, open('{results}', 'w'))\""


def test_a_rerun_within_tolerance_passes_and_outside_fails(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    cond = {"name": "c", "command": writer(results, 80.0), "results": str(results), "key": "dev"}
    ok = check(tmp_path, [{**cond, "tolerance": 0.5, "scores": {"f1": 80.3}}])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK   c" in ok.stdout
    bad = check(tmp_path, [{**cond, "tolerance": 0.5, "scores": {"f1": 81.0}}])
    assert bad.returncode == 1
    assert "FAIL c" in bad.stdout and "expected 81.0000 got 80.0000" in bad.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the condition is re-run")
def test_a_gpu_condition_is_compared_not_rerun_without_a_gpu(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps({"dev": {"f1": 81.5}}), encoding="utf-8")
    cond = {
        "name": "full",
        "requires": "cuda",
        "command": 'python -c "raise SystemExit(3)"',  # would fail the check if it ran
        "results": str(results),
        "key": "dev",
        "scores": {"f1": 81.5},
    }
    done = check(tmp_path, [cond])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no GPU here: full compares its stored results" in done.stdout
