"""Readers side by side: the gold paragraph alone and end to end through `qa`, with paired tests.

    python benchmarks/reader_models.py --reader old=PATH --reader quick=PATH [--questions 1000]
        [--graphs qa,qa+fusion.top_k=5,qa_rerank] [--tag reader_models]

For every reader (``label=path``; the first is the baseline) and the first ``--questions``
questions of SQuAD v1.1 dev part A (file order):

* ``gold``: the reader alone on each question's own paragraph (384-token windows, stride 128, answers
  of at most 30 tokens, fp32), SQuAD EM/F1 per question;
* one row per graph in ``--graphs`` (default ``qa``; ``graph+component.param=value+...`` sets
  parameters, as ``odqa ask --set`` does): the whole graph over the dev part A collection
  (1,469 paragraphs indexed whole, ``benchmarks/work/squad-index``), EM/F1 of its final answers, the
  share of questions whose answer is in the read passages, and the median latency.

Every row is compared with the baseline reader's row of the same kind by a paired randomization test
(10,000 sign flips) and a paired t-test. The machine's reference speed (:mod:`odqa.train.speed`) is
printed and stored. Writes ``benchmarks/results/<tag>.json`` (means, comparisons, per-question
values) and prints the table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from _common import WORK, bench_env, data_dir, write_results
from rich.console import Console
from rich.table import Table

from odqa.eval.datasets import ensure_index, load_dataset
from odqa.eval.pipeline_eval import evaluate_pipeline
from odqa.eval.qa import exact_match, f1
from odqa.eval.significance import compare_per_query
from odqa.pipelines.env import open_runner
from odqa.pipelines.loader import parse_overrides
from odqa.train.reader import predict_answers, read_examples
from odqa.train.speed import reference_speed

Scores = dict[str, dict[str, float]]


def gold_scores(model_dir: str, examples: list[Any]) -> Scores:
    """Per-question EM/F1 (0-1) of ``model_dir`` reading each question's own paragraph."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    with torch.inference_mode():
        preds = predict_answers(model, tokenizer, examples)
    return {
        ex.qid: {"EM": exact_match(preds[ex.qid], ex.answers), "F1": f1(preds[ex.qid], ex.answers)}
        for ex in examples
    }


def graph_scores(spec: str, model_dir: str, dataset: Any, index_dir: Path) -> tuple[Scores, dict[str, Any]]:
    """Per-question EM/F1 of graph ``spec``'s final answers with reader ``model_dir``, and its summary."""
    graph, *sets = spec.split("+")
    runner = open_runner(bench_env(index_dir, reader=model_dir), graph, parse_overrides(sets), warm_up=False)
    evaluation = evaluate_pipeline(runner, graph, dataset, ragas=False)
    reader = [s for s in evaluation.stages if s.kind == "reader"][-1]  # the graph's final answers
    read = [s for s in evaluation.stages if s.kind == "retrieval"][-1]  # what the reader read
    summary: dict[str, Any] = {
        "answer_in_read_passages": float(read.funnel.get("answer_found", float("nan"))),
        "p50_ms": float(evaluation.extra.get("median_total_ms") or float("nan")),
        "read_stage": read.name,
    }
    per_query = {q: {"EM": v["EM"], "F1": v["F1"]} for q, v in reader.per_query.items()}
    return per_query, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", action="append", required=True, help="label=model_dir (first = baseline)")
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument(
        "--graphs", default="qa", help="comma-separated graphs for the end-to-end rows ('' = none)"
    )
    ap.add_argument("--tag", default="reader_models")
    args = ap.parse_args()
    readers = dict(item.split("=", 1) for item in args.reader)
    graphs = [g for g in args.graphs.split(",") if g]
    console = Console(width=160)

    ref = reference_speed()
    console.print(ref.summary())
    dev = data_dir() / "squad" / "dev-v1.1-part-a.json"
    examples = read_examples(dev)[: args.questions]
    dataset = load_dataset(dev, max_queries=args.questions)
    index_dir = WORK / "squad-index"
    if graphs and ensure_index(dataset, bench_env(index_dir)):
        console.print(f"indexed {dev} into {index_dir}")

    rows: dict[str, dict[str, Any]] = {}
    for label, path in readers.items():
        t0 = time.perf_counter()
        rows[f"{label}/gold"] = {"reader": label, "kind": "gold", "per_query": gold_scores(path, examples)}
        console.print(f"{label} gold: {time.perf_counter() - t0:.0f}s")
        for graph in graphs:
            t0 = time.perf_counter()
            per_query, summary = graph_scores(graph, path, dataset, index_dir)
            rows[f"{label}/{graph}"] = {"reader": label, "kind": graph, "per_query": per_query, **summary}
            console.print(f"{label} {graph}: {time.perf_counter() - t0:.0f}s")

    baseline = next(iter(readers))
    table = Table(
        "reader", "setting", "n", "EM", "F1", "vs baseline: dEM (p)", "dF1 (p)", "answer read", "p50 ms"
    )
    for row in rows.values():
        pq = row["per_query"]
        n = len(pq)
        row["means"] = {m: 100 * sum(v[m] for v in pq.values()) / max(1, n) for m in ("EM", "F1")}
        cells = ["", ""]
        if row["reader"] != baseline:
            comps = compare_per_query(pq, rows[f"{baseline}/{row['kind']}"]["per_query"], ["EM", "F1"])
            row["vs_baseline"] = [c.to_dict() for c in comps]
            cells = [f"{100 * c.delta:+.1f} ({c.p_randomization:.2g})" for c in comps]
        answer_read = row.get("answer_in_read_passages")
        table.add_row(
            row["reader"],
            row["kind"],
            str(n),
            f"{row['means']['EM']:.1f}",
            f"{row['means']['F1']:.1f}",
            *cells,
            f"{answer_read:.3f}" if answer_read is not None else "",
            f"{row['p50_ms']:.0f}" if "p50_ms" in row else "",
        )
    console.print(table)
    out = write_results(
        args.tag,
        {
            "questions": args.questions,
            "dataset": str(dev),
            "readers": readers,
            "baseline": baseline,
            "graphs": graphs,
            "reference_speed": ref.as_dict(),
            "rows": rows,
        },
    )
    console.print(f"results: {out}")


if __name__ == "__main__":
    main()
