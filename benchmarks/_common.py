"""Shared helpers for benchmark scripts: data dir, results files, stage timing summaries."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from odqa.pipelines.env import PipelineEnv
from odqa.utils.manifest import make_manifest

# idle OpenMP threads spin by default and slow torch badly on shared cores (as in odqa/cli/app.py)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WORK = ROOT / "benchmarks" / "work"


def data_dir() -> Path:
    d = Path(os.environ.get("ODQA_DATA_DIR", ROOT.parent / "shared" / "data"))
    if not d.is_dir():
        raise SystemExit(f"data directory {d} not found: set ODQA_DATA_DIR")
    return d


def bench_env(index_dir: Path, **models: str | None) -> PipelineEnv:
    """The pipeline environment a benchmark opens graphs in: odqa's settings (models dir, device,
    backends; ``ODQA_*`` variables) as every ``odqa`` command sees them, the benchmark's own index
    directory, and ``models`` (``reader="/path"``; ``None`` = the registry's) on top."""
    from odqa.config import load_settings

    env = PipelineEnv.from_settings(load_settings(), index_dir=index_dir)
    chosen = {role: str(path) for role, path in models.items() if path}
    return env.with_models(**chosen) if chosen else env


def machine() -> dict[str, Any]:
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "ld_preload": os.environ.get("LD_PRELOAD", ""),
    }


def summarize_ms(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64) * 1000
    if arr.size == 0:
        return {}
    return {
        "mean_ms": round(float(arr.mean()), 2),
        "p50_ms": round(float(np.percentile(arr, 50)), 2),
        "p95_ms": round(float(np.percentile(arr, 95)), 2),
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    out = make_manifest(f"benchmark:{name}", machine=machine(), **payload)
    path.write_text(json.dumps(out, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
