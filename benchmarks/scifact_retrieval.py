"""SciFact (BEIR, 809 train queries): index once, run bm25 / dense / hybrid, evaluate, time stages.

    python benchmarks/scifact_retrieval.py [--pipelines bm25,dense,hybrid] [--max-queries N]

Writes TREC runs to benchmarks/results/runs/scifact.<pipeline>.trec and figures to
benchmarks/results/scifact_retrieval.json; prints R@100, nDCG@10 per pipeline and latency per stage.
Documents are indexed whole (one passage per abstract, ``--split none``), as BEIR evaluates them.
"""

from __future__ import annotations

import argparse
import json
import time

from _common import RESULTS, WORK, bench_env, data_dir, summarize_ms, write_results
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from odqa.corpus.beir import read_beir_queries
from odqa.corpus.qrels import read_qrels
from odqa.eval.datasets import INDEX_OVERRIDES
from odqa.eval.metrics import evaluate
from odqa.eval.trec import write_run
from odqa.pipelines.env import open_runner
from odqa.pipelines.indexing import index_collection
from odqa.pipelines.search import ranking_from_documents

METRICS = ["R@100", "nDCG@10", "MAP", "P@10", "MRR"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipelines", default="bm25,dense,hybrid")
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--reindex", action="store_true")
    ap.add_argument("--name", default="scifact_retrieval")
    args = ap.parse_args()

    root = data_dir() / "scifact"
    index_dir = WORK / "scifact-index"
    env = bench_env(index_dir)
    console = Console()
    index_s = None
    if args.reindex or not (index_dir / "manifest.json").exists():
        t0 = time.perf_counter()
        rep = index_collection(root, env=env, fmt="beir", overrides=INDEX_OVERRIDES)
        index_s = time.perf_counter() - t0
        console.print(f"indexed {rep.documents} docs in {index_s:.1f}s")
    queries = read_beir_queries(root / "queries.jsonl", progress=False)
    qrels = read_qrels(root / "qrels" / "train.tsv")
    queries = [q for q in queries if q.qid in qrels][: args.max_queries]

    results: dict[str, dict] = {}
    runs_dir = RESULTS / "runs"
    for name in args.pipelines.split(","):
        runner = open_runner(env, name, warm_up=False)
        t0 = time.perf_counter()
        runner.warm_up()
        warm_s = time.perf_counter() - t0
        runs: dict[str, dict[str, dict[str, float]]] = {}
        stage_times: dict[str, list[float]] = {}
        totals: list[float] = []
        for q in tqdm(queries, desc=name, unit="q"):
            res = runner.run(q.text)
            totals.append(res.total_s)
            for stage, t in res.timings.items():
                stage_times.setdefault(stage, []).append(t)
            for stage, out in res.outputs.items():
                if "documents" in out:
                    runs.setdefault(stage, {})[q.qid] = ranking_from_documents(
                        out["documents"], top_k=100, doc_level=True
                    )
        per_stage = {}
        for stage, run in runs.items():
            write_run(run, runs_dir / f"scifact.{name}.{stage}.trec", tag=f"{name}.{stage}")
            per_stage[stage] = evaluate(qrels, run, METRICS).means
        final = list(runs)[-1]
        results[name] = {
            "metrics": per_stage[final],
            "stages": per_stage,
            "latency": {
                "total": summarize_ms(totals),
                **{s: summarize_ms(v) for s, v in stage_times.items()},
            },
            "warm_up_s": round(warm_s, 2),
            "queries": len(queries),
        }

    table = Table("pipeline", *METRICS, "p50 ms", "per-stage p50 ms")
    for name, r in results.items():
        m = r["metrics"]
        stages = ", ".join(f"{s}={v['p50_ms']}" for s, v in r["latency"].items() if s != "total")
        table.add_row(name, *(f"{m[k]:.4f}" for k in METRICS), f"{r['latency']['total']['p50_ms']}", stages)
    console.print(table)
    path = write_results(
        args.name, {"dataset": "scifact train queries", "index_s": index_s, "pipelines": results}
    )
    console.print(f"results: {path}")
    print(json.dumps({n: r["metrics"] for n, r in results.items()}))


if __name__ == "__main__":
    main()
