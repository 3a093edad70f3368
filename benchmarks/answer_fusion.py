"""Answer score = reader span logit + weight x passage signal, weight tuned on held-out dev questions.

    python benchmarks/answer_fusion.py --reader PATH [--reranker PATH] [--graph qa --graph qa_rerank ...]
        [--tune 1000:1400] [--test 0:1000] [--tag answer_fusion]

The reader scores a span by its start + end logits, trained with a softmax inside one window: the
logits of two passages are not on one scale, so a confident-looking span in the third passage can
beat the right one in the first. BERTserini (Yang et al., 2019) interpolates the reader's score with
the retriever's; this benchmark measures that for odqa's graphs. For every question the graph runs
once with the reader returning its top 20 spans; then, offline, each span is re-scored as

    (s_i + e_j) + w * g(passage)

for each passage signal ``g`` (:class:`odqa.components.rankers.answer_passage_fusion.AnswerPassageFusion`):
``rank`` = -ln(rank of the passage among those read), ``score`` = logit of the passage's own score
(a re-ranker's probability; RRF scores are ranks in disguise) — and the top span is scored with SQuAD
EM/F1. The weight is chosen on the ``--tune`` questions (SQuAD dev part A, file order) and reported
on the disjoint ``--test`` questions. Every row is compared with the first graph's ``w = 0`` row (its
reader alone: what ``qa`` answers without fusion) by a paired randomization test; each graph's p50
latency is measured on the test questions (2 threads, the machine's reference speed printed).
Writes ``benchmarks/results/<tag>.json`` and prints the tables.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _common import WORK, bench_env, data_dir, write_results
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from odqa.components.rankers.answer_passage_fusion import SIGNALS, AnswerPassageFusion
from odqa.eval.datasets import ensure_index, load_dataset
from odqa.eval.qa import exact_match, f1
from odqa.eval.significance import compare_per_query
from odqa.pipelines.env import open_runner
from odqa.pipelines.loader import parse_overrides
from odqa.train.speed import reference_speed

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
Read = tuple[list[Any], list[Any], list[str]]  # the reader's answers, the passages read, gold answers


def collect(runner: Any, dataset: Any, lo: int, hi: int, label: str) -> tuple[dict[str, Read], list[float]]:
    """Per question of ``dataset.queries[lo:hi]``: the reader's top 20 answers, the passages it read
    and the gold answers; and the graph's wall time per question (seconds)."""
    out: dict[str, Read] = {}
    seconds: list[float] = []
    for q in tqdm(dataset.queries[lo:hi], desc=f"{label} {lo}:{hi}", unit="q"):
        result = runner.run(q.text)
        seconds.append(result.total_s)
        out[q.qid] = (result.outputs["reader"]["answers"], result.final_documents, dataset.answers[q.qid])
    return out, seconds


def pick(
    reads: dict[str, Read], signal: str, weight: float, calibration: float
) -> dict[str, dict[str, float]]:
    """Per-question EM/F1 of the top answer after :class:`AnswerPassageFusion` (the component the
    graphs run) re-scores the reader's answers with ``signal`` and ``weight``."""
    fusion = AnswerPassageFusion(signal=signal, weight=weight, calibration_factor=calibration)  # type: ignore[arg-type]
    scores = {}
    for qid, (answers, read, gold) in reads.items():
        top = [a for a in fusion.run(answers=answers, documents=read)["answers"] if a.data]
        text = top[0].data if top else ""
        scores[qid] = {"EM": exact_match(text, gold), "F1": f1(text, gold)}
    return scores


def mean(scores: dict[str, dict[str, float]], metric: str) -> float:
    return 100 * sum(v[metric] for v in scores.values()) / max(1, len(scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", required=True, help="reader model directory")
    ap.add_argument("--reranker", help="re-ranker model directory (graphs with a ranker)")
    ap.add_argument("--graph", action="append", help="graph[+component.param=value...] (repeat; default qa)")
    ap.add_argument("--tune", default="1000:1400", help="questions to choose the weight on (lo:hi)")
    ap.add_argument("--test", default="0:1000", help="questions to report on (lo:hi)")
    ap.add_argument("--tag", default="answer_fusion")
    args = ap.parse_args()
    graphs = args.graph or ["qa"]
    (tlo, thi), (elo, ehi) = (tuple(int(x) for x in s.split(":")) for s in (args.tune, args.test))
    if max(elo, tlo) < min(ehi, thi):
        ap.error("--tune and --test overlap")
    models = {"reader": args.reader, **({"reranker": args.reranker} if args.reranker else {})}
    console = Console(width=150)
    ref = reference_speed()
    console.print(ref.summary())
    dev = data_dir() / "squad" / "dev-v1.1-part-a.json"
    dataset = load_dataset(dev, max_queries=max(thi, ehi))
    ensure_index(dataset, bench_env(WORK / "squad-index"))

    rows: dict[str, Any] = {}
    tuned: dict[str, dict[str, dict[str, float]]] = {}
    for spec in graphs:
        t0 = time.perf_counter()
        graph, *sets = spec.split("+")
        overrides = parse_overrides([*sets, "reader.top_k=20", "reader.no_answer=false"])
        runner = open_runner(bench_env(WORK / "squad-index", **models), graph, overrides)
        calibration = float(getattr(runner.pipeline.get_component("reader"), "calibration_factor"))  # noqa: B009
        tune, _ = collect(runner, dataset, tlo, thi, spec)
        test, seconds = collect(runner, dataset, elo, ehi, spec)
        p50 = 1000 * statistics.median(seconds)
        console.print(f"{spec}: {len(tune) + len(test)} questions in {time.perf_counter() - t0:.0f}s")
        grid = Table(
            "signal", *[f"w={w:g}" for w in WEIGHTS], title=f"{spec}: tune F1 ({args.tune}, {len(tune)} q)"
        )
        tuned[spec] = {}
        for signal in SIGNALS:
            f1s = {w: mean(pick(tune, signal, w, calibration), "F1") for w in WEIGHTS}
            tuned[spec][signal] = {str(w): v for w, v in f1s.items()}
            grid.add_row(signal, *[f"{v:.1f}" for v in f1s.values()])
        console.print(grid)
        rows[f"{spec} (w=0)"] = {
            "graph": spec,
            "weight": 0.0,
            "signal": None,
            "per_query": pick(test, "rank", 0.0, calibration),
        }
        for signal in SIGNALS:
            f1_by_weight = tuned[spec][signal]
            w = max(WEIGHTS, key=lambda x: (f1_by_weight[str(x)], -x))  # ties: the smaller weight
            rows[f"{spec} + {signal} (w={w:g})"] = {
                "graph": spec,
                "weight": w,
                "signal": signal,
                "per_query": pick(test, signal, w, calibration),
            }
        for row in rows.values():
            if row["graph"] == spec:
                row["p50_ms"] = p50

    baseline_name = next(iter(rows))
    baseline = rows[baseline_name]["per_query"]
    table = Table(
        "setting",
        "n",
        "EM",
        "F1",
        "dEM (p)",
        "dF1 (p)",
        "p50 ms",
        title=f"test ({args.test}) vs {baseline_name}",
    )
    for name, row in rows.items():
        pq = row["per_query"]
        row["means"] = {m: mean(pq, m) for m in ("EM", "F1")}
        cells = ["", ""]
        if name != baseline_name:
            comps = compare_per_query(pq, baseline, ["EM", "F1"])
            row["vs_baseline"] = [c.to_dict() for c in comps]
            cells = [f"{100 * c.delta:+.1f} ({c.p_randomization:.2g})" for c in comps]
        table.add_row(
            name,
            str(len(pq)),
            f"{row['means']['EM']:.1f}",
            f"{row['means']['F1']:.1f}",
            *cells,
            f"{row['p50_ms']:.0f}",
        )
    console.print(table)
    out = write_results(
        args.tag,
        {
            "graphs": graphs,
            "models": models,
            "dataset": str(dev),
            "tune": args.tune,
            "test": args.test,
            "weights": list(WEIGHTS),
            "tune_f1": tuned,
            "baseline": baseline_name,
            "rows": rows,
            "reference_speed": ref.as_dict(),
        },
    )
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
