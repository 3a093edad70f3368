"""BM25's k1 and b chosen on development data, checked on held-out collections, paired tests.

    python benchmarks/bm25_params.py [--k1 0.6,0.9,1.2,1.5] [--b 0.3,0.4,0.5,0.6,0.75]
        [--analyzer english] [--name bm25_params]

Same data and index as ``bm25_analyzers.py`` (embedded BM25, titles indexed, ``--analyzer``):
development = SQuAD v1.1 dev part A (7,753 questions over its 1,469 paragraphs) and the SciFact
development split of the train queries (404 queries); held out = Cranfield and CISI ``test`` qrels.
For every (k1, b) of the grid: nDCG@10 on each collection. The winner maximises the **mean
nDCG@10 over the development collections**, and must not lose on either of them against the
current default (``--baseline``; a default must not win on one and lose on another): a candidate
that is worse than the baseline on a development collection by more than 0.002 nDCG@10 is not
eligible. The winner and the baseline are then compared on all four collections (nDCG@10, RR@10,
R@100) with the paired randomization test. Writes ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any

from _common import write_results
from bm25_analyzers import bm25_collections
from haystack import Document
from ner_ablation import Dataset
from rich.console import Console
from rich.table import Table

from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.eval.metrics import evaluate
from odqa.eval.significance import compare_per_query

METRICS = ["nDCG@10", "RR@10", "R@100"]
DEPTH = 100
TOLERANCE = 0.002


def run_bm25(ds: Dataset, analyzer: str, k1: float, b: float) -> dict[str, dict[str, float]]:
    """The top ``DEPTH`` of every query of ``ds`` from an embedded BM25 index with ``k1`` and ``b``."""
    store = EmbeddedBM25DocumentStore(k1=k1, b=b, analyzer=analyzer, index_title=True)
    store.write_documents([Document(id=d.id, content=d.content, meta=d.meta) for d in ds.docs])
    return {
        qid: {d.id: float(d.score or 0.0) for d in store.bm25_retrieval(text, top_k=DEPTH)}
        for qid, text in ds.queries.items()
    }


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k1", default="0.6,0.9,1.2,1.5")
    ap.add_argument("--b", default="0.3,0.4,0.5,0.6,0.75")
    ap.add_argument("--baseline", default="0.9,0.4", help="k1,b of the current default")
    ap.add_argument("--analyzer", default="english")
    ap.add_argument("--scifact-seed", type=int, default=13)
    ap.add_argument("--name", default="bm25_params")
    args = ap.parse_args()
    base_k1, base_b = floats(args.baseline)
    grid = sorted({*itertools.product(floats(args.k1), floats(args.b)), (base_k1, base_b)})
    console = Console(width=150)
    datasets = bm25_collections(args.scifact_seed)
    t0 = time.perf_counter()
    ndcg: dict[str, dict[str, float]] = {}  # dataset -> "k1,b" -> nDCG@10
    per_query: dict[str, dict[str, Any]] = {}  # dataset -> "k1,b" -> per-query metrics
    for _, ds in datasets:
        ndcg[ds.name], per_query[ds.name] = {}, {}
        for k1, b in grid:
            res = evaluate(
                ds.qrels, run_bm25(ds, args.analyzer, k1, b), METRICS, missing_as_zero=True, per_query=True
            )
            key = f"{k1:g},{b:g}"
            ndcg[ds.name][key] = res.means["nDCG@10"]
            per_query[ds.name][key] = res.per_query
    console.print(f"{len(grid)} settings x {len(datasets)} collections in {time.perf_counter() - t0:.0f}s")

    dev_names = [ds.name for role, ds in datasets if role == "dev"]
    base_key = f"{base_k1:g},{base_b:g}"
    keys = [f"{k1:g},{b:g}" for k1, b in grid]
    dev_mean = {k: sum(ndcg[n][k] for n in dev_names) / len(dev_names) for k in keys}
    eligible = [k for k in keys if all(ndcg[n][k] >= ndcg[n][base_key] - TOLERANCE for n in dev_names)]
    winner = max(eligible, key=lambda k: dev_mean[k])

    table = Table("k1,b", *[ds.name for _, ds in datasets], "dev mean", "eligible", title="nDCG@10")
    for k in keys:
        mark = " (baseline)" if k == base_key else (" (winner)" if k == winner else "")
        table.add_row(
            k + mark,
            *(f"{ndcg[ds.name][k]:.4f}" for _, ds in datasets),
            f"{dev_mean[k]:.4f}",
            "yes" if k in eligible else "no",
        )
    console.print(table)

    comparison = Table(
        "data", "role", "queries", *[f"d {m} (p)" for m in METRICS], title=f"{winner} vs {base_key}"
    )
    compared: dict[str, Any] = {}
    for role, ds in datasets:
        comps = compare_per_query(per_query[ds.name][winner], per_query[ds.name][base_key], METRICS)
        compared[ds.name] = {
            "role": role,
            "queries": len(ds.queries),
            "vs_baseline": [c.to_dict() for c in comps],
        }
        comparison.add_row(
            ds.name, role, str(len(ds.queries)), *(f"{c.delta:+.4f} ({c.p_randomization:.2g})" for c in comps)
        )
    console.print(comparison)
    path = write_results(
        args.name,
        {
            "analyzer": args.analyzer,
            "grid": keys,
            "baseline": base_key,
            "winner": winner,
            "rule": f"max mean dev nDCG@10, no dev collection below the baseline by > {TOLERANCE}",
            "ndcg@10": ndcg,
            "dev_mean": dev_mean,
            "winner_vs_baseline": compared,
        },
    )
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
