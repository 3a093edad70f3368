"""Does Elasticsearch BM25 rank like odqa's embedded BM25? SciFact train queries through both.

    ELASTICSEARCH_URL=http://127.0.0.1:9200 python benchmarks/es_parity.py [--max-queries N]

Same documents (title + text, whole documents, our ids), same analyzer, same k1/b (in the ES
index's ``similarity`` settings). For each configuration: recall@100, nDCG@10, top-10 overlap with
the embedded ranking, identical top-10 order, the ratio of top-1 scores (ES / embedded; 1.0 when
the arithmetic is the same), and queries per second (sequential, top-100, one client).
Field variants show what the choice of ``multi_match`` fields costs or gains (same server).
Writes benchmarks/results/es_parity.json (with the server's name: a stand-in is flagged).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from _common import data_dir, write_results
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy
from rich.console import Console
from rich.table import Table

from odqa.components.retrievers.bm25_retriever import EmbeddedBM25Retriever
from odqa.components.retrievers.es_bm25_retriever import ElasticsearchBM25Retriever
from odqa.components.retrievers.es_query import PARITY_FIELDS, SPLIT_FIELDS
from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.components.stores.es_config import EsConfig, is_standin
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore
from odqa.corpus.beir import read_beir_queries
from odqa.corpus.qrels import read_qrels
from odqa.eval.metrics import evaluate

TOP = 100
Run = dict[str, dict[str, float]]

#: (analyzer, k1, b): Elasticsearch's defaults, then Pyserini's BEIR setting (odqa's default)
CONFIGS = [("standard", 1.2, 0.75), ("english", 1.2, 0.75), ("standard", 0.9, 0.4), ("english", 0.9, 0.4)]
#: (name, fields, match_type, tie_breaker), run for the first configuration
FIELD_VARIANTS = [
    ("split-best", list(SPLIT_FIELDS), "best_fields", None),
    ("split-best-tb0.3", list(SPLIT_FIELDS), "best_fields", 0.3),
    ("split-most", list(SPLIT_FIELDS), "most_fields", None),
    ("content-only", ["content"], "best_fields", None),
]


def _ranked(run: dict[str, float]) -> list[str]:
    return sorted(run, key=lambda d: (-run[d], d))


def compare(run: Run, ref: Run, qrels: Any) -> dict[str, float]:
    m = evaluate(qrels, run, ["nDCG@10", "R@100"]).means
    overlap, same, ratios = [], [], []
    for q, r in ref.items():
        a, b = _ranked(run.get(q, {}))[:10], _ranked(r)[:10]
        if b:
            overlap.append(len(set(a) & set(b)) / min(10, len(b)))
            same.append(float(a == b))
            if a and r[b[0]] > 0:
                ratios.append(run[q][a[0]] / r[b[0]])
    return {
        **{k: round(float(v), 4) for k, v in m.items()},
        "top10_overlap": round(statistics.fmean(overlap), 4),
        "top10_identical": round(statistics.fmean(same), 4),
        "top1_score_ratio_median": round(statistics.median(ratios), 4) if ratios else float("nan"),
    }


def timed_run(retrieve: Any, queries: list[Any]) -> tuple[Run, float]:
    t0 = time.perf_counter()
    run = {q.qid: {d.id: float(d.score or 0.0) for d in retrieve(q.text)} for q in queries}
    return run, len(queries) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="scifact")
    ap.add_argument("--split", default="train")
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--keep-indexes", action="store_true", help="Do not delete the benchmark indexes.")
    ap.add_argument(
        "--configs", default=None, help="analyzer:k1:b,... (default: all of CONFIGS), e.g. standard:1.2:0.75"
    )
    ap.add_argument(
        "--variants", default=None, help="field variants for the first config, comma-separated (default: all)"
    )
    args = ap.parse_args()
    configs = (
        [(a, float(k), float(b)) for a, k, b in (c.split(":") for c in args.configs.split(","))]
        if args.configs
        else CONFIGS
    )
    wanted = set(args.variants.split(",")) if args.variants else {v[0] for v in FIELD_VARIANTS}
    field_variants = [v for v in FIELD_VARIANTS if v[0] in wanted]
    root = data_dir() / args.dataset
    with open(root / "corpus.jsonl", encoding="utf-8") as fh:
        raw = [json.loads(line) for line in fh]
    docs = [
        Document(id=d["_id"], content=d["text"], meta={"doc_id": d["_id"], "title": d.get("title") or ""})
        for d in raw
    ]
    qrels = read_qrels(root / "qrels" / f"{args.split}.tsv")
    queries = [q for q in read_beir_queries(root, progress=False) if q.qid in qrels][: args.max_queries]
    cfg = EsConfig.from_env()
    info = cfg.check()
    console = Console()
    console.print(f"server: {info.get('name')} {info['version']['number']} at {cfg.safe_url}")
    results: list[dict[str, Any]] = []
    stores: list[OdqaElasticsearchDocumentStore] = []
    for i, (analyzer, k1, b) in enumerate(configs):
        emb = EmbeddedBM25DocumentStore(k1=k1, b=b, analyzer=analyzer)
        t0 = time.perf_counter()
        emb.write_documents(docs)
        emb.bm25_retrieval("warm up", top_k=1)
        emb_index_s = time.perf_counter() - t0
        emb_ret = EmbeddedBM25Retriever(document_store=emb, top_k=TOP)
        ref, emb_qps = timed_run(lambda q, r=emb_ret: r.run(q)["documents"], queries)
        base = {"analyzer": analyzer, "k1": k1, "b": b}
        results.append(
            {
                **base,
                "backend": "embedded",
                "fields": "title+content",
                "index_s": round(emb_index_s, 2),
                "qps": round(emb_qps, 1),
                **compare(ref, ref, qrels),
            }
        )
        store = OdqaElasticsearchDocumentStore(
            index=f"odqa-parity-{analyzer}-{k1}-{b}".replace(".", "_"), analyzer=analyzer, k1=k1, b=b
        )
        stores.append(store)
        t0 = time.perf_counter()
        store.begin_build()
        store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
        store.commit_build()
        es_index_s = time.perf_counter() - t0
        live = store.index_info()
        variants: list[tuple[str, list[str], str, float | None]] = [
            ("parity", list(PARITY_FIELDS), "best_fields", None)
        ]
        if i == 0:
            variants += field_variants
        for name, fields, match_type, tie in variants:
            ret = ElasticsearchBM25Retriever(
                document_store=store, top_k=TOP, fields=fields, match_type=match_type, tie_breaker=tie
            )
            run, qps = timed_run(lambda q, r=ret: r.run(q)["documents"], queries)
            results.append(
                {
                    **base,
                    "backend": "elasticsearch",
                    "fields": name,
                    "index_s": round(es_index_s, 2),
                    "qps": round(qps, 1),
                    "server_k1": live["k1"],
                    "server_b": live["b"],
                    **compare(run, ref, qrels),
                }
            )
    table = Table(
        "analyzer",
        "k1",
        "b",
        "backend",
        "fields",
        "R@100",
        "nDCG@10",
        "top10 ∩",
        "top10 =",
        "score ratio",
        "q/s",
    )
    for r in results:
        table.add_row(
            r["analyzer"],
            str(r["k1"]),
            str(r["b"]),
            r["backend"],
            r["fields"],
            f"{r['R@100']:.4f}",
            f"{r['nDCG@10']:.4f}",
            f"{r['top10_overlap']:.3f}",
            f"{r['top10_identical']:.3f}",
            f"{r['top1_score_ratio_median']:.3f}",
            f"{r['qps']:.0f}",
        )
    console.print(table)
    if not args.keep_indexes:
        for s in stores:
            for name in s.client.indices.get_alias(name=s.index_name).body:
                s.client.indices.delete(index=name)
    path = write_results(
        "es_parity",
        {
            "dataset": args.dataset,
            "split": args.split,
            "queries": len(queries),
            "documents": len(docs),
            "server": {
                "name": info.get("name"),
                "version": info["version"]["number"],
                "standin": is_standin(info),
            },
            "configs": [list(c) for c in configs],
            "results": results,
        },
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
