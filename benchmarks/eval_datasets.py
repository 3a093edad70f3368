"""Per-stage evaluation of the query graphs on SciFact (train queries), Cranfield, CISI and SQuAD,
and the HTML/Markdown comparison report.

    python benchmarks/eval_datasets.py [--datasets scifact,cranfield,cisi,squad]
        [--pipelines bm25,dense,hybrid[,qa]] [--max-queries N] [--squad-queries 500]

For every dataset: builds (or reuses) a whole-document index under ``benchmarks/work/<name>-index``
(the SciFact one is shared with ``scifact_retrieval.py``), runs every judged query through each
graph, evaluates every stage (``odqa.eval.pipeline_eval``) with the offline ragas metrics, and
writes ``benchmarks/results/eval_<dataset>_<pipeline>.json`` (per-stage TREC runs go to
``benchmarks/work/eval_runs/``, they are large).  The ``qa`` graph is added when a trained reader
and re-ranker resolve in the model registry (``~/.cache/odqa/models`` by default); it needs
answers, so it runs on SQuAD only.  Finally ``benchmarks/results/eval_report.html`` and ``.md``
compare the pipelines, and ``eval_summary.json`` lists the headline figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, WORK, bench_env, data_dir
from rich.console import Console
from rich.table import Table

from odqa.config import load_settings
from odqa.eval.datasets import EvalDataset, ensure_index, load_dataset
from odqa.eval.pipeline_eval import evaluate_pipeline
from odqa.eval.report import write_report
from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.loader import graph_roles

DATASETS: dict[str, tuple[str, str]] = {
    # name -> (path under the data dir, qrels split)
    "scifact": ("scifact", "train"),
    "cranfield": ("cranfield", "test"),
    "cisi": ("cisi", "test"),
    "squad": ("squad/dev-v1.1-part-a.json", "all"),
}
SUMMARY_METRICS = ("nDCG@10", "MAP", "MRR", "P@10", "R@100", "AR@5", "AR@20", "EM", "F1")


def qa_available(env: PipelineEnv) -> bool:
    return all(env.registry.resolve(role).available for role in graph_roles("qa"))


def headline(result: dict[str, Any]) -> dict[str, float]:
    """Final retrieval stage metrics (+ reader EM/F1) of a results file."""
    stages = {s["name"]: s for s in result["stages"]}
    means = dict(stages[result["final_stage"]]["metrics"])
    for s in result["stages"]:
        if s["kind"] == "reader":
            means.update({k: s["metrics"][k] for k in ("EM", "F1")})
    return {k: means[k] for k in SUMMARY_METRICS if k in means}


def run_one(name: str, dataset: EvalDataset, pipeline: str, console: Console) -> Path:
    index_dir = WORK / f"{name}-index"
    env = bench_env(index_dir)
    t0 = time.perf_counter()
    if ensure_index(dataset, env):
        console.print(f"indexed {dataset.path} into {index_dir} in {time.perf_counter() - t0:.0f}s")
    runner = open_runner(env, pipeline, warm_up=False)
    evaluation = evaluate_pipeline(runner, pipeline, dataset, ragas=True)
    evaluation.extra["index_dir"] = str(index_dir.relative_to(WORK.parent.parent))
    path = evaluation.write(RESULTS, stem=f"eval_{name}_{pipeline}", runs_dir=WORK / "eval_runs")
    console.print(f"{name}/{pipeline}: {path}  ({evaluation.extra.get('run_s')}s)")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="scifact,cranfield,cisi,squad")
    ap.add_argument("--pipelines", default="bm25,dense,hybrid", help="qa is added when its models exist")
    ap.add_argument(
        "--max-queries", type=int, default=None, help="cap per BEIR dataset (default: all judged)"
    )
    ap.add_argument("--squad-queries", type=int, default=500, help="SQuAD dev part A questions evaluated")
    ap.add_argument(
        "--report-only", action="store_true", help="only rebuild the report from existing results"
    )
    args = ap.parse_args()

    console = Console()
    settings = load_settings()
    pipelines = [p for p in args.pipelines.split(",") if p]
    with_qa = qa_available(bench_env(WORK))
    console.print(
        f"models dir {settings.resolved_models_dir}: qa graph "
        + ("available" if with_qa else "NOT available (no trained reader/re-ranker) - skipped")
    )
    written: list[Path] = []
    for name in [d for d in args.datasets.split(",") if d]:
        rel, split = DATASETS[name]
        limit = args.squad_queries if name == "squad" else args.max_queries
        names = [*pipelines, *(["qa"] if with_qa and name == "squad" and "qa" not in pipelines else [])]
        if args.report_only:
            written += [p for p in (RESULTS / f"eval_{name}_{pipe}.json" for pipe in names) if p.is_file()]
            continue
        dataset = load_dataset(data_dir() / rel, split=split, max_queries=limit)
        for pipeline in names:
            written.append(run_one(name, dataset, pipeline, console))

    summary: dict[str, dict[str, dict[str, float]]] = {}
    table = Table("dataset", "pipeline", *SUMMARY_METRICS)
    for path in written:
        result = json.loads(path.read_text(encoding="utf-8"))
        ds, pipe = result["dataset"]["name"], Path(result["pipeline"]).stem
        summary.setdefault(ds, {})[pipe] = figures = headline(result)
        table.add_row(ds, pipe, *(f"{figures[m]:.4f}" if m in figures else "" for m in SUMMARY_METRICS))
    console.print(table)
    (RESULTS / "eval_summary.json").write_text(
        json.dumps(
            {"qa_available": with_qa, "figures": summary, "results": [str(p.name) for p in written]}, indent=2
        )
        + "\n",
        encoding="utf-8",
    )
    html = write_report(written, RESULTS / "eval_report.html", baseline="bm25")
    md = write_report(written, RESULTS / "eval_report.md", baseline="bm25")
    console.print(f"report: {html}\nmarkdown: {md}")


if __name__ == "__main__":
    main()
