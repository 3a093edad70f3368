"""BM25 analyzers side by side: `standard` (no stemming) vs `english` (possessives, stop words,
Porter stemming; Elasticsearch's built-in of the same name), with paired significance tests.

    python benchmarks/bm25_analyzers.py [--analyzers standard,english] [--name bm25_analyzers]

Development data (the choice is made on these): SQuAD v1.1 dev part A (the 1,469 paragraphs, each
question's gold paragraph relevant, all 7,753 questions) and the SciFact development split of the
train queries (the seeded half used by ``ner_ablation.py``, 404 queries). Held-out check, reported
but not used to choose: Cranfield and CISI (BEIR layout, ``qrels/test.tsv``).

Every system is the embedded BM25 index with ``indexing.yaml``'s k1 = 0.9, b = 0.4 and titles
indexed; only the analyzer changes. Metrics (trec_eval conventions, missing = 0): nDCG@10, RR@10,
R@100; each analyzer is compared with the first one by the paired randomization test and t-test.
Writes ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _common import data_dir, write_results
from haystack import Document
from ner_ablation import Dataset, load_scifact_dev, load_squad
from rich.console import Console
from rich.table import Table

from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.eval.metrics import evaluate
from odqa.eval.significance import compare_per_query

METRICS = ["nDCG@10", "RR@10", "R@100"]
DEPTH = 100


def load_beir_test(name: str) -> Dataset:
    """A BEIR directory under the data dir with its ``test`` qrels: every judged query."""
    from odqa.corpus.beir import read_beir_corpus, read_beir_queries
    from odqa.corpus.qrels import read_qrels

    root = data_dir() / name
    docs = [
        Document(id=d.doc_id, content=d.text, meta={"title": d.title, "doc_id": d.doc_id})
        for d in read_beir_corpus(root, progress=False)
    ]
    qrels = read_qrels(root / "qrels" / "test.tsv")
    queries = {q.qid: q.text for q in read_beir_queries(root, progress=False) if q.qid in qrels}
    return Dataset(name, docs, queries, {q: dict(qrels[q]) for q in queries})


def bm25_collections(scifact_seed: int) -> list[tuple[str, Dataset]]:
    """``(role, dataset)``: the development collections BM25 defaults are chosen on (SQuAD dev part A,
    the SciFact dev half drawn with ``scifact_seed``) and the held-out ones they are checked on."""
    return [
        ("dev", load_squad(None)),
        ("dev", load_scifact_dev(None, scifact_seed)),
        ("held-out", load_beir_test("cranfield")),
        ("held-out", load_beir_test("cisi")),
    ]


def run_bm25(ds: Dataset, analyzer: str) -> tuple[dict[str, dict[str, float]], float]:
    store = EmbeddedBM25DocumentStore(k1=0.9, b=0.4, analyzer=analyzer, index_title=True)
    store.write_documents(ds.docs)
    t0 = time.perf_counter()
    run = {
        qid: {d.id: float(d.score or 0.0) for d in store.bm25_retrieval(text, top_k=DEPTH)}
        for qid, text in ds.queries.items()
    }
    return run, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--analyzers", default="standard,english")
    ap.add_argument("--scifact-seed", type=int, default=13)
    ap.add_argument("--name", default="bm25_analyzers")
    args = ap.parse_args()
    analyzers = args.analyzers.split(",")
    console = Console(width=150)
    datasets = bm25_collections(args.scifact_seed)
    table = Table("data", "role", "queries", "analyzer", *METRICS, "vs first: d nDCG@10 (p)", "d R@100 (p)")
    results: dict[str, Any] = {}
    for role, ds in datasets:
        per_query = {}
        out: dict[str, Any] = {"role": role, "queries": len(ds.queries), "analyzers": {}}
        for analyzer in analyzers:
            run, seconds = run_bm25(ds, analyzer)
            res = evaluate(ds.qrels, run, METRICS, missing_as_zero=True, per_query=True)
            per_query[analyzer], means = res.per_query, res.means
            row: dict[str, Any] = {"means": means, "queries": res.n_queries, "search_s": round(seconds, 2)}
            cells = ["", ""]
            if analyzer != analyzers[0]:
                comps = compare_per_query(per_query[analyzer], per_query[analyzers[0]], ["nDCG@10", "R@100"])
                row["vs_first"] = [c.to_dict() for c in comps]
                cells = [f"{c.delta:+.4f} ({c.p_randomization:.2g})" for c in comps]
            out["analyzers"][analyzer] = row
            table.add_row(
                ds.name, role, str(len(ds.queries)), analyzer, *(f"{means[m]:.4f}" for m in METRICS), *cells
            )
        results[ds.name] = out
    console.print(table)
    path = write_results(args.name, {"analyzers": analyzers, "k1": 0.9, "b": 0.4, "datasets": results})
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
