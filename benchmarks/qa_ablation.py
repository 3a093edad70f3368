"""End-to-end ablation of the `qa` graph on SQuAD dev part A: every stage's metrics and EM/F1 with and
without each use of query analysis and of the re-ranker, with paired significance tests.

    python benchmarks/qa_ablation.py [--questions 200] [--conditions all|name,name] [--reranker PATH]
        [--rerank-depth N] [--set component.param=value ...] [--tag qa_ablation]

Conditions (each a graph plus ``--set``-style overrides; the baseline is ``no-analysis``):

* ``no-analysis``    qa with ``analyzer.boost=0`` (no query analysis effect)
* ``qa``             qa as shipped (entity boost 0.5)
* ``boost1``         entity boost 1.0
* ``filter``         qa_ner with the entity filter on, over an index tagged by ``indexing_ner``
* ``prior``          qa_ner with the answer-type prior (weight 0.5)
* ``rerank20``       qa_rerank: the re-ranker picks the reader's 3 passages among the fused top 20
* ``rerank10``       ... among the fused top 10
* ``no-rerank``      qa: the fused top 3 are read (the shipped default)

Indexes (paragraphs whole) live in ``benchmarks/work/squad-index`` and ``squad-ner-index``.
Writes (``<tag>`` = ``--tag``, default ``qa_ablation``)
``benchmarks/results/<tag>/<condition>.json`` (per-question values inside), the comparison report
``benchmarks/results/<tag>.md`` / ``.html`` (randomization + paired t-test vs the baseline) and
``benchmarks/results/<tag>.json`` (headline figures, models, machine).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, WORK, bench_env, data_dir, write_results
from rich.console import Console
from rich.table import Table

from odqa.eval.datasets import INDEX_OVERRIDES, EvalDataset, ensure_index, load_dataset
from odqa.eval.pipeline_eval import evaluate_pipeline
from odqa.eval.report import write_report
from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.indexing import index_collection
from odqa.pipelines.loader import graph_roles, parse_overrides

#: name -> (graph, overrides, tagged index?)
CONDITIONS: dict[str, tuple[str, dict[str, dict[str, Any]], bool]] = {
    "no-analysis": ("qa", {"analyzer": {"boost": 0.0}}, False),
    "qa": ("qa", {}, False),
    "boost1": ("qa", {"analyzer": {"boost": 1.0}}, False),
    "filter": ("qa_ner", {"entity_filter": {"enabled": True}}, True),
    "prior": ("qa_ner", {"answer_prior": {"weight": 0.5}}, False),
    "rerank20": ("qa_rerank", {"fusion": {"top_k": 20}}, False),
    "rerank10": ("qa_rerank", {"fusion": {"top_k": 10}}, False),
    "no-rerank": ("qa", {"fusion": {"top_k": 3}}, False),
}
BASELINE = "no-analysis"
HEADLINE = ("fusion:MRR", "fusion:AR@3", "ranker:MRR", "ranker:AR@3", "answers:EM", "answers:F1")


def tagged_index(dataset: EvalDataset, env: PipelineEnv, console: Console) -> Path:
    """SQuAD dev part A indexed with `indexing_ner` (every paragraph's entities in its metadata)."""
    target = WORK / "squad-ner-index"
    if not (target / "manifest.json").is_file():
        t0 = time.perf_counter()
        index_collection(
            dataset.path,
            env=env.replace(index_dir=target),
            fmt=dataset.kind,
            pipeline="indexing_ner",
            overrides=INDEX_OVERRIDES,
        )
        console.print(f"tagged index built in {time.perf_counter() - t0:.0f}s: {target}")
    return target


def headline(result: dict[str, Any]) -> dict[str, float]:
    """Fusion and ranker figures, and the final answers' EM/F1 (the last answer stage: the reader,
    or the answer-type prior after it)."""
    out: dict[str, float] = {}
    for stage in result["stages"]:
        for metric, value in stage["metrics"].items():
            key = f"{stage['name']}:{metric}"
            if stage["kind"] == "reader" and metric in ("EM", "F1"):
                out[f"answers:{metric}"] = value  # later answer stages overwrite earlier ones
            elif key in HEADLINE:
                out[key] = value
    out["p50_ms"] = float(result.get("median_total_ms") or float("nan"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=200, help="first N questions of SQuAD dev part A")
    ap.add_argument("--conditions", default="all")
    ap.add_argument("--reranker", default=None, help="re-ranker model (default: the registry's)")
    ap.add_argument("--reader", default=None, help="reader model (default: the registry's)")
    ap.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        help="component.param=value applied to every condition first (e.g. fusion.top_k=3)",
    )
    ap.add_argument(
        "--rerank-depth",
        type=int,
        default=None,
        help="fusion.top_k (qa_ner: entity_filter.top_k) in each condition: the passages the reader reads "
        "(qa, qa_ner) or the re-ranker sees (qa_rerank)",
    )
    ap.add_argument("--baseline", default=BASELINE, help=f"condition compared against (default {BASELINE})")
    ap.add_argument("--tag", default="qa_ablation", help="results name (default qa_ablation)")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    common = parse_overrides(args.sets)
    out_dir = RESULTS / args.tag
    console = Console(width=160)
    names = list(CONDITIONS) if args.conditions == "all" else args.conditions.split(",")
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        raise SystemExit(f"unknown condition(s) {unknown}; conditions are {', '.join(CONDITIONS)}")
    if args.baseline not in CONDITIONS:
        raise SystemExit(f"unknown baseline {args.baseline!r}")
    if args.baseline not in names:
        names.insert(0, args.baseline)

    env = bench_env(WORK / "squad-index", reranker=args.reranker, reader=args.reader)
    roles = set().union(*(graph_roles(CONDITIONS[n][0]) for n in names)) & {"reader", "reranker", "ner"}
    models = {role: env.registry.resolve(role).require().location for role in sorted(roles)}
    dataset = load_dataset(data_dir() / "squad" / "dev-v1.1-part-a.json", max_queries=args.questions)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in names:
        path = out_dir / f"{name}.json"
        if args.report_only:
            written.append(path)
            continue
        graph, own, tagged = CONDITIONS[name]
        overrides = {c: dict(p) for c, p in common.items()}
        if args.rerank_depth is not None:
            pool = "entity_filter" if graph == "qa_ner" else "fusion"
            overrides.setdefault(pool, {})["top_k"] = args.rerank_depth
        for comp, params in own.items():
            overrides.setdefault(comp, {}).update(params)
        index_dir = WORK / "squad-index"
        if tagged:
            index_dir = tagged_index(dataset, env, console)
        elif ensure_index(dataset, env.replace(index_dir=index_dir)):
            console.print(f"indexed {dataset.path} into {index_dir}")
        runner = open_runner(env.replace(index_dir=index_dir), graph, overrides, warm_up=False)
        evaluation = evaluate_pipeline(runner, name, dataset, ragas=False)
        evaluation.extra.update(graph=graph, overrides=overrides, models=models)
        written.append(evaluation.write(out_dir, stem=name, runs_dir=WORK / f"{args.tag}_runs"))
        console.print(f"{name}: {written[-1]} ({evaluation.extra.get('run_s')}s)")

    table = Table("condition", *HEADLINE, "p50 ms")
    figures: dict[str, dict[str, float]] = {}
    for path in written:
        result = json.loads(path.read_text(encoding="utf-8"))
        figures[path.stem] = row = headline(result)
        table.add_row(
            path.stem, *(f"{row.get(k, float('nan')):.4f}" for k in HEADLINE), f"{row['p50_ms']:.0f}"
        )
    console.print(table)
    html = write_report(written, RESULTS / f"{args.tag}.html", baseline=args.baseline)
    md = write_report(written, RESULTS / f"{args.tag}.md", baseline=args.baseline)
    out = write_results(
        args.tag,
        {
            "questions": args.questions,
            "common_overrides": common,
            "rerank_depth": args.rerank_depth,
            "baseline": args.baseline,
            "conditions": {n: {"graph": CONDITIONS[n][0], "overrides": CONDITIONS[n][1]} for n in names},
            "models": models,
            "figures": figures,
        },
    )
    console.print(f"report: {html}\nmarkdown: {md}\nsummary: {out}")


if __name__ == "__main__":
    main()
