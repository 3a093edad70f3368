"""Re-run the conditions of a 2CR file and compare their scores with the stored ones.

    python benchmarks/check_2cr.py benchmarks/2cr/scifact.yaml [--only bm25] [--no-run]

Exit status 1 when any score differs by more than the condition's tolerance (figures are stored
rounded to 4 decimals, so the effective tolerance is at least 5e-5).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


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
        if not args.no_run:
            cmd = shlex.split(cond["command"])
            if cmd[0] == "python":
                cmd[0] = sys.executable
            elif cmd[0] == "odqa":  # the odqa of this interpreter's environment
                cmd = [sys.executable, "-m", "odqa.cli", *cmd[1:]]
            print(f"$ {cond['command']}", flush=True)
            subprocess.run(cmd, cwd=ROOT, check=True)
        results = json.loads((ROOT / cond["results"]).read_text(encoding="utf-8"))
        got = results
        # where the scores sit in the results file: "key" (dotted path), default pipelines.<name>.metrics
        for part in cond.get("key", f"pipelines.{cond['name']}.metrics").split("."):
            got = got[part]
        tol = max(float(cond.get("tolerance", 1e-4)), 5e-5)
        for metric, expected in cond["scores"].items():
            ok = abs(got[metric] - expected) <= tol
            failures += not ok
            print(
                f"{'OK  ' if ok else 'FAIL'} {cond['name']:8s} {metric:8s} "
                f"expected {expected:.4f} got {got[metric]:.4f}"
            )
    print("all conditions reproduced" if not failures else f"{failures} scores out of tolerance")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
