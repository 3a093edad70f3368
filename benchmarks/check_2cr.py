"""Re-run the conditions of a 2CR file and compare their scores with the stored ones.

    python benchmarks/check_2cr.py benchmarks/2cr/scifact.yaml [--only bm25] [--no-run]

A condition's ``command`` is what a user runs (an ``odqa`` command where one exists; ``$VARS`` such
as ``$ODQA_DATA_DIR`` are expanded), with the condition's ``env`` (variables set for the command,
e.g. ``ODQA_EMBEDDER_MODEL`` to pick a fine-tuned encoder; values expanded too); ``results`` is
the file it writes; ``key`` and each score's name are dotted paths into it, where a path step into
a list picks the element of that ``name`` (``stages.fusion.metrics`` in an ``odqa eval`` results
file).

A condition with ``requires: cuda`` (trained on a GPU in minutes, days on a CPU) is re-run only where
PyTorch sees a GPU; elsewhere its stored results file is compared as with ``--no-run``, and said so.

Exit status 1 when any score differs by more than the condition's tolerance (figures are stored
rounded to 4 decimals, so the effective tolerance is at least 5e-5).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def lookup(obj: Any, path: str) -> Any:
    """``obj`` followed along a dotted ``path``; in a list, a step picks the element with that name."""
    for part in path.split(".") if path else []:
        if isinstance(obj, list):
            named = [x for x in obj if isinstance(x, dict) and x.get("name") == part]
            if not named:
                raise KeyError(f"no element named {part!r} in {[x.get('name') for x in obj]}")
            obj = named[0]
        else:
            obj = obj[part]
    return obj


def cuda_available() -> bool:
    """Whether PyTorch sees a GPU."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return bool(torch.cuda.is_available())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--only", default=None, help="comma-separated condition names")
    ap.add_argument("--no-run", action="store_true", help="compare existing results files only")
    args = ap.parse_args()
    spec = yaml.safe_load(args.file.read_text(encoding="utf-8"))
    only = set(args.only.split(",")) if args.only else None
    failures = 0
    for cond in spec["conditions"]:
        if only and cond["name"] not in only:
            continue
        run = not args.no_run
        if run and cond.get("requires") == "cuda" and not cuda_available():
            print(f"(no GPU here: {cond['name']} compares its stored results, not a re-run)", flush=True)
            run = False
        if run:
            cmd = shlex.split(os.path.expandvars(cond["command"]))
            if cmd[0] == "python":
                cmd[0] = sys.executable
            elif cmd[0] == "odqa":  # the odqa of this interpreter's environment
                cmd = [sys.executable, "-m", "odqa.cli", *cmd[1:]]
            env = {k: os.path.expandvars(str(v)) for k, v in (cond.get("env") or {}).items()}
            shown = " ".join(f"{k}={v}" for k, v in env.items())
            print(f"$ {shown + ' ' if shown else ''}{cond['command']}", flush=True)
            subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, **env})
        results = json.loads((ROOT / cond["results"]).read_text(encoding="utf-8"))
        # where the scores sit in the results file: "key" (dotted path), default pipelines.<name>.metrics
        got = lookup(results, cond.get("key", f"pipelines.{cond['name']}.metrics"))
        tol = max(float(cond.get("tolerance", 1e-4)), 5e-5)
        for metric, expected in cond["scores"].items():
            value = got[metric] if metric in got else lookup(got, metric)
            ok = abs(value - expected) <= tol
            failures += not ok
            print(
                f"{'OK  ' if ok else 'FAIL'} {cond['name']:8s} {metric:8s} "
                f"expected {expected:.4f} got {value:.4f}"
            )
    print("all conditions reproduced" if not failures else f"{failures} scores out of tolerance")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
