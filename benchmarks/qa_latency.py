"""End-to-end `qa` graph on SQuAD dev part A: latency per stage, peak memory, EM/F1.

    python benchmarks/qa_latency.py [--questions 100] [--models-dir DIR] [--pipeline qa|qa_rerank]

Indexes the 1,469 paragraphs once (benchmarks/work/squad-index), loads the graph (`qa`: hybrid ->
read the fused top 3; `qa_rerank`: hybrid -> re-rank the fused top 20 (or --fusion-top-k) -> read 3)
with odqa's trained models, warms it up once, then answers a seeded sample of dev questions.
Targets (issue #2): p50 <= 1 s per question warm; models load once per process; peak RSS <= 3 GB.
Writes benchmarks/results/qa_latency.json.
"""

from __future__ import annotations

import argparse
import random
import resource
import time

import psutil
from _common import WORK, bench_env, data_dir, summarize_ms, write_results
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from odqa.corpus.squad import read_squad
from odqa.eval.datasets import ensure_index, load_dataset
from odqa.eval.qa import squad_scores
from odqa.models import ModelRegistry
from odqa.pipelines.env import open_runner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=100)
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--fusion-top-k",
        type=int,
        default=None,
        help="fusion.top_k: passages read (qa) or re-ranked (qa_rerank); default: the graph's",
    )
    ap.add_argument("--pipeline", default="qa", help="qa | qa_rerank | a graph file")
    ap.add_argument("--name", default="qa_latency")
    args = ap.parse_args()
    console = Console()
    squad = data_dir() / "squad" / "dev-v1.1-part-a.json"
    index_dir = WORK / "squad-index"
    env = bench_env(index_dir)
    if args.models_dir:
        env = env.replace(registry=ModelRegistry(args.models_dir))
    ensure_index(load_dataset(squad), env)
    _, examples = read_squad(squad, progress=False)
    sample = random.Random(args.seed).sample(examples, args.questions)

    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    overrides = {"fusion": {"top_k": args.fusion_top_k}} if args.fusion_top_k is not None else {}
    runner = open_runner(env, args.pipeline, overrides, warm_up=False)
    t0 = time.perf_counter()
    runner.warm_up()
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    runner.pipeline.warm_up()  # a second warm-up must not reload anything
    rewarm_s = time.perf_counter() - t0

    totals: list[float] = []
    stages: dict[str, list[float]] = {}
    preds: dict[str, str] = {}
    gold_in_top3 = 0
    for ex in tqdm(sample, desc=str(args.pipeline), unit="q"):
        res = runner.run(ex.question)
        totals.append(res.total_s)
        for s, t in res.timings.items():
            stages.setdefault(s, []).append(t)
        answers = [a for a in res.outputs["reader"]["answers"] if a.data]
        preds[ex.qid] = answers[0].data if answers else ""
        read = res.outputs.get("ranker", res.outputs["fusion"])["documents"]  # what the reader read
        gold_in_top3 += any(d.meta.get("doc_id") == ex.doc_id for d in read)
    scores = squad_scores(preds, {ex.qid: ex.answers for ex in sample})
    peak_rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    payload = {
        "questions": len(sample),
        "models_dir": str(env.registry.models_dir),
        "pipeline": args.pipeline,
        "fusion_top_k": args.fusion_top_k,
        "latency": {"total": summarize_ms(totals), **{s: summarize_ms(v) for s, v in stages.items()}},
        "warm_up_s": round(warm_s, 2),
        "second_warm_up_s": round(rewarm_s, 4),
        "rss_before_load_gb": round(rss_before / 1024**3, 3),
        "peak_rss_gb": round(peak_rss_gb, 3),
        "exact_match": round(scores["exact_match"], 2),
        "f1": round(scores["f1"], 2),
        "gold_paragraph_in_read_top3": round(gold_in_top3 / len(sample), 4),
        "targets": {"p50_s": 1.0, "peak_rss_gb": 3.0},
    }
    table = Table("stage", "mean ms", "p50 ms", "p95 ms")
    for s, v in payload["latency"].items():
        table.add_row(s, str(v["mean_ms"]), str(v["p50_ms"]), str(v["p95_ms"]))
    console.print(table)
    console.print(
        f"warm-up {warm_s:.1f}s (again: {rewarm_s * 1000:.1f}ms)  peak RSS {peak_rss_gb:.2f} GB  "
        f"EM {scores['exact_match']:.1f}  F1 {scores['f1']:.1f}  gold paragraph in top-3 "
        f"{payload['gold_paragraph_in_read_top3']:.3f}"
    )
    console.print(f"results: {write_results(args.name, payload)}")


if __name__ == "__main__":
    main()
