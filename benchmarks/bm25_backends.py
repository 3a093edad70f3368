"""Which in-process BM25? odqa's sparse-matrix index vs bm25s vs Haystack's in-memory BM25, each
through its fastest documented API, one run, one thread.

    python benchmarks/bm25_backends.py [--dataset scifact] [--max-queries N]

Same corpus, same tokens (odqa's standard analyzer), k1=1.2, b=0.75, top 100, single thread
(``OMP_NUM_THREADS=1``; bm25s ``n_threads=1``). Rows:

* ``odqa``: ``BM25Index.search(text)``, one query per call (tokenisation included; Lucene's
  one-byte length norms); ``odqa tokenise`` times the analyzer alone, so search alone is the
  difference;
* ``odqa exact lengths``: the same with ``lucene_norms=False`` -- the scoring bm25s' ``lucene``
  method implements, so their scores must agree (``max |d score|`` vs bm25s, target 1e-5);
* ``bm25s retrieve``: ``BM25.retrieve([tokens], k=100)``, one query per call, tokens given (its
  tokenisation is odqa's here); ``bm25s retrieve (batch)``: all queries in one call;
* ``haystack-inmemory``: ``InMemoryDocumentStore.bm25_retrieval`` (its own tokenizer and BM25).

Reports index time, queries/s, nDCG@10 / R@100 and top-10 overlap with odqa, and the machine.
Writes benchmarks/results/bm25_backends.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread, before numpy/scipy load their BLAS

import argparse
import json
import time

import numpy as np
from _common import data_dir, write_results
from rich.console import Console
from rich.table import Table

from odqa.components.stores.analysis import standard_tokens
from odqa.components.stores.bm25_index import BM25Index
from odqa.corpus.beir import read_beir_queries
from odqa.corpus.qrels import read_qrels
from odqa.eval.metrics import evaluate
from odqa.train.speed import cpu_name

K1, B, TOP = 1.2, 0.75, 100


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="scifact")
    ap.add_argument("--split", default="train")
    ap.add_argument("--max-queries", type=int, default=None)
    args = ap.parse_args()
    root = data_dir() / args.dataset
    with open(root / "corpus.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    ids = [d["_id"] for d in docs]
    texts = [f"{d.get('title', '')}\n{d['text']}" for d in docs]
    qrels = read_qrels(root / "qrels" / f"{args.split}.tsv")
    queries = [q for q in read_beir_queries(root, progress=False) if q.qid in qrels][: args.max_queries]
    results: dict[str, dict] = {}
    runs: dict[str, dict[str, dict[str, float]]] = {}

    # odqa
    t0 = time.perf_counter()
    ours = BM25Index(k1=K1, b=B)
    ours.add(ids, texts)
    ours.search("warm", 1)
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    runs["odqa"] = {q.qid: dict(ours.search(q.text, TOP)) for q in queries}
    results["odqa"] = {"index_s": t_index, "qps": len(queries) / (time.perf_counter() - t0)}
    t0 = time.perf_counter()
    tokens = [standard_tokens(q.text) for q in queries]
    results["odqa tokenise"] = {"index_s": 0.0, "qps": len(queries) / (time.perf_counter() - t0)}
    t0 = time.perf_counter()
    exact = BM25Index(k1=K1, b=B, lucene_norms=False)
    exact.add(ids, texts)
    exact.search("warm", 1)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    runs["odqa exact lengths"] = {q.qid: dict(exact.search(q.text, TOP)) for q in queries}
    results["odqa exact lengths"] = {"index_s": t_exact, "qps": len(queries) / (time.perf_counter() - t0)}

    # bm25s (lucene variant: exact lengths), through retrieve(), one query per call and batched
    import bm25s

    t0 = time.perf_counter()
    ref = bm25s.BM25(method="lucene", k1=K1, b=B)
    ref.index([standard_tokens(t) for t in texts], show_progress=False)
    t_index = time.perf_counter() - t0
    opts = {"k": TOP, "show_progress": False, "n_threads": 1}

    def as_run(docs: np.ndarray, scores: np.ndarray) -> dict[str, float]:
        return {ids[int(i)]: float(v) for i, v in zip(docs, scores, strict=True) if v > 0}

    ref.retrieve([tokens[0]], **opts)
    t0 = time.perf_counter()
    run = {}
    for q, toks in zip(queries, tokens, strict=True):
        docs, scores = ref.retrieve([toks], **opts)
        run[q.qid] = as_run(docs[0], scores[0])
    runs["bm25s retrieve"] = run
    results["bm25s retrieve"] = {"index_s": t_index, "qps": len(queries) / (time.perf_counter() - t0)}
    t0 = time.perf_counter()
    docs, scores = ref.retrieve(tokens, **opts)
    results["bm25s retrieve (batch)"] = {"index_s": t_index, "qps": len(queries) / (time.perf_counter() - t0)}
    runs["bm25s retrieve (batch)"] = {
        q.qid: as_run(d, sc) for q, d, sc in zip(queries, docs, scores, strict=True)
    }
    diffs = [
        abs(runs["odqa exact lengths"][q][d] - v)
        for q, row in runs["bm25s retrieve"].items()
        for d, v in row.items()
        if d in runs["odqa exact lengths"][q]
    ]
    agreement = {"max_abs_score_diff_exact_vs_bm25s": float(max(diffs)) if diffs else 0.0}

    # Haystack InMemoryDocumentStore (its own tokenizer and BM25 variant)
    from haystack import Document
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    t0 = time.perf_counter()
    store = InMemoryDocumentStore(bm25_algorithm="BM25Okapi", bm25_parameters={"k1": K1, "b": B})
    store.write_documents([Document(id=i, content=t) for i, t in zip(ids, texts, strict=True)])
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    runs["haystack-inmemory"] = {
        q.qid: {d.id: float(d.score or 0) for d in store.bm25_retrieval(q.text, top_k=TOP)} for q in queries
    }
    results["haystack-inmemory"] = {"index_s": t_index, "qps": len(queries) / (time.perf_counter() - t0)}

    results["odqa tokenise"].update(
        {"nDCG@10": float("nan"), "R@100": float("nan"), "top10_overlap_with_odqa": float("nan")}
    )
    for name, run in runs.items():
        m = evaluate(qrels, run, ["nDCG@10", "R@100"]).means
        overlap = np.mean(
            [
                len(
                    set(sorted(run[q], key=lambda d: -run[q][d])[:10])
                    & set(sorted(runs["odqa"][q], key=lambda d: -runs["odqa"][q][d])[:10])
                )
                / max(1, min(10, len(runs["odqa"][q])))
                for q in runs["odqa"]
            ]
        )
        results[name].update({**m, "top10_overlap_with_odqa": float(overlap)})

    table = Table("backend", "index s", "queries/s", "nDCG@10", "R@100", "top-10 overlap vs odqa")
    for name, r in results.items():
        table.add_row(
            name,
            f"{r['index_s']:.2f}",
            f"{r['qps']:.1f}",
            f"{r['nDCG@10']:.4f}",
            f"{r['R@100']:.4f}",
            f"{r['top10_overlap_with_odqa']:.3f}",
        )
    console = Console(width=150)
    console.print(table)
    console.print(
        "odqa exact lengths vs bm25s retrieve: max |d score| "
        f"{agreement['max_abs_score_diff_exact_vs_bm25s']:.2e}; CPU {cpu_name()}"
    )
    write_results(
        "bm25_backends",
        {
            "dataset": args.dataset,
            "queries": len(queries),
            "k1": K1,
            "b": B,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "backends": results,
            **agreement,
        },
    )


if __name__ == "__main__":
    main()
