"""Dense retrieval at scale: FAISS index types at 100k and 1M x 384 vectors, CPU.

    python benchmarks/faiss_scale.py [--sizes 100000,1000000] [--queries 1000] [--name faiss_scale]
        [--only Flat,HNSW32,...] [--sampler gaussian|mixture|real]
    python benchmarks/faiss_scale.py --sampler real --sizes 100000 --name faiss_scale_real

**Vectors.** Encoding a million passages with MiniLM takes about a day on 2 CPU cores (12.7
passages/s), so the vectors are *sampled to match real MiniLM embeddings*: the 6,652 passage vectors
of odqa's SciFact and SQuAD dev part A indexes (``benchmarks/work/scifact-index``, ``squad-index``:
all-MiniLM-L6-v2, title + text) are fitted, then drawn from and normalised (MiniLM's vectors are unit
length, cosine = inner product, as in odqa's FAISS store). ``--sampler gaussian``: one Gaussian with
their mean and full covariance (keeps the spectrum, loses the topical clusters); ``--sampler
mixture``: 1,024 k-means centroids plus the pooled within-cluster covariance (keeps clusters too).
Both are harder than the real vectors for approximate search: the mean cosine to the nearest
neighbour among 6,652 vectors is 0.687 for the real ones, 0.427 Gaussian, 0.602 mixture (printed by
every run), so recall here is a lower bound. Queries are 1,000 further draws. Seeded.

``--sampler real`` (up to ~140k): *real* all-MiniLM-L6-v2 vectors instead, affordable since the
embedder runs on ONNX Runtime: the sentences of SQuAD train's paragraphs and of SciFact's abstracts
(``odqa.corpus.sentences.split_sentences``, in file order, the first N), and as queries real questions
(a seeded draw of SQuAD train questions and SciFact claims, half each). Encoded once, unit length, and
cached in ``benchmarks/work/real-vectors-*.npy``.

**Indexes** (factory strings, as ``odqa index --faiss-index`` takes them; inner product):
``Flat`` (exact: the ground truth), ``HNSW32`` (efConstruction 40, efSearch 64 / 128 / 256 / 512),
``IVF{n},Flat`` / ``IVF{n},SQ8`` / ``IVF{n},PQ48`` with n = 4·sqrt(N) lists (nprobe 16 / 64 / 256;
PQ 16 / 64), and
``SQ8`` (flat, 8-bit scalar quantizer). Each is trained on a 100k sample (when it trains), filled in
chunks of 50k vectors with a progress bar, so memory stays bounded by the index itself plus one
chunk.

**Figures** per index and search setting: build (train + add) seconds, serialized size and the
process's resident-memory growth, queries/s batched (all queries in one call) and single-query
(one call per query, 200 queries), recall@10 against ``Flat`` (share of the exact top 10 found).
Two FAISS/OpenMP threads (this machine's cores). Target (issue #14) at 1M: recall@10 >= 0.95 at
>= 2,000 q/s batched in <= 2.5 GB. Writes ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import gc
import math
import time
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import psutil
from _common import WORK, write_results
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

DIM = 384
CHUNK = 50_000


def real_texts(n: int, queries: int, seed: int) -> tuple[list[str], list[str]]:
    """The first ``n`` sentences of SQuAD train paragraphs then SciFact abstracts, and ``queries``
    seeded questions (half SQuAD train questions, half SciFact claims)."""
    import json
    import random

    from _common import data_dir

    from odqa.corpus.beir import read_beir_corpus, read_beir_queries
    from odqa.corpus.sentences import split_sentences

    squad = json.loads((data_dir() / "squad" / "train-v1.1-rebuilt.json").read_text(encoding="utf-8"))
    paragraphs = [p for a in squad["data"] for p in a["paragraphs"]]
    texts = [s for p in paragraphs for s in split_sentences(p["context"])]
    scifact = data_dir() / "scifact"
    texts += [s for d in read_beir_corpus(scifact, progress=False) for s in split_sentences(d.text)]
    if len(texts) < n:
        raise SystemExit(f"only {len(texts):,} real sentences: use --sizes up to that")
    rng = random.Random(seed)
    questions = [q["question"] for p in paragraphs for q in p["qas"]]
    claims = [q.text for q in read_beir_queries(scifact, progress=False)]
    return texts[:n], rng.sample(questions, queries - queries // 2) + rng.sample(claims, queries // 2)


def encode_real(n: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Real MiniLM vectors of :func:`real_texts` (ONNX Runtime, batch 64, unit length), cached."""
    cache = WORK / f"real-vectors-{n}-{queries}-{seed}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return z["corpus"], z["queries"]
    from _common import bench_env
    from sentence_transformers import SentenceTransformer

    from odqa.utils.onnx_runtime import OrtSentenceEncoder

    location = bench_env(WORK / "unused-index").registry.resolve("embedder").require().location
    encoder = OrtSentenceEncoder.from_sentence_transformer(SentenceTransformer(location, device="cpu"))
    texts, questions = real_texts(n, queries, seed)
    t0 = time.perf_counter()
    corpus = np.concatenate(
        [
            encoder.encode(texts[lo : lo + 4096], batch_size=64, normalize_embeddings=True)
            for lo in tqdm(range(0, n, 4096), desc="encoding sentences", unit="4096")
        ]
    )
    Console().print(f"encoded {n:,} sentences in {time.perf_counter() - t0:.0f}s (ONNX Runtime fp32)")
    q = encoder.encode(questions, batch_size=64, normalize_embeddings=True)
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(cache, corpus=corpus.astype(np.float32), queries=q.astype(np.float32))
    return corpus.astype(np.float32), q.astype(np.float32)


class RealVectors:
    """Hands out real vectors in order (the sampler interface of :func:`run_size`)."""

    def __init__(self, corpus: np.ndarray) -> None:
        self.corpus = corpus
        self.next = 0

    def draw(self, n: int) -> np.ndarray:
        if self.next + n > len(self.corpus):
            self.next = 0  # each size starts from the first vector
        out = self.corpus[self.next : self.next + n]
        self.next += n
        return out


def real_vectors() -> np.ndarray:
    """The passage vectors of odqa's SciFact and SQuAD evaluation indexes (MiniLM, unit length)."""
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

    out = []
    for name in ("scifact-index", "squad-index"):
        path = WORK / name / "faiss"
        if not path.is_dir():
            raise SystemExit(f"{path} not found: run benchmarks/scifact_retrieval.py and qa_latency.py first")
        store = OdqaFAISSDocumentStore(path=str(path))
        store.warm_up()
        inner = faiss.downcast_index(store.index.index)  # the Flat index inside the id map
        out.append(inner.reconstruct_n(0, inner.ntotal))
    return np.concatenate(out).astype(np.float32)


class MatchedSampler:
    """Draws unit vectors shaped like ``real``.

    * ``gaussian``: one Gaussian with the real vectors' mean and full covariance (keeps the
      spectrum, loses the clusters: a hard case for approximate search);
    * ``mixture``: ``clusters`` k-means centroids of the real vectors, each drawn with its share of
      them, plus the pooled within-cluster covariance (keeps topical clusters as well).
    """

    def __init__(self, real: np.ndarray, seed: int, kind: str = "gaussian", clusters: int = 256) -> None:
        self.rng = np.random.default_rng(seed)
        if kind == "gaussian":
            self.centers = real.mean(axis=0, keepdims=True)
            self.weights = np.ones(1)
            resid = real - self.centers
        elif kind == "mixture":
            km = faiss.Kmeans(real.shape[1], clusters, niter=20, seed=seed, spherical=True)
            km.train(real)
            _, assign = km.index.search(real, 1)
            assign = assign[:, 0]
            self.centers = np.stack([real[assign == c].mean(axis=0) for c in range(clusters)])
            self.weights = np.bincount(assign, minlength=clusters) / len(real)
            resid = real - self.centers[assign]
        else:
            raise ValueError(f"unknown sampler {kind!r}: gaussian or mixture")
        cov = resid.T @ resid / max(1, len(real) - len(self.centers)) + 1e-6 * np.eye(real.shape[1])
        self.chol = np.linalg.cholesky(cov).astype(np.float32)

    def draw(self, n: int) -> np.ndarray:
        comp = self.rng.choice(len(self.centers), size=n, p=self.weights)
        z = self.rng.standard_normal((n, self.chol.shape[0]), dtype=np.float32)
        x = z @ self.chol.T + self.centers[comp]
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x.astype(np.float32)


@dataclass(frozen=True)
class Spec:
    factory: str
    params: list[dict[str, int]]  # search settings tried


def specs(n: int) -> list[Spec]:
    lists = 1 << round(math.log2(4 * math.sqrt(n)))  # 4 sqrt(N), a power of two
    return [
        Spec("Flat", [{}]),
        Spec("HNSW32", [{"efSearch": 64}, {"efSearch": 128}, {"efSearch": 256}, {"efSearch": 512}]),
        Spec(f"IVF{lists},Flat", [{"nprobe": 16}, {"nprobe": 64}, {"nprobe": 256}]),
        Spec(f"IVF{lists},SQ8", [{"nprobe": 16}, {"nprobe": 64}, {"nprobe": 256}]),
        Spec(f"IVF{lists},PQ48", [{"nprobe": 16}, {"nprobe": 64}]),
        Spec("SQ8", [{}]),
    ]


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def build(spec: Spec, chunks: list[np.ndarray], train: np.ndarray) -> tuple[Any, float, int]:
    """The filled index, seconds to train and add, resident-memory growth in bytes."""
    before = rss()
    t0 = time.perf_counter()
    index = faiss.index_factory(DIM, spec.factory, faiss.METRIC_INNER_PRODUCT)
    if "HNSW" in spec.factory:
        faiss.downcast_index(index).hnsw.efConstruction = 40
    if not index.is_trained:
        index.train(train)
    for chunk in tqdm(chunks, desc=f"  add {spec.factory}", unit="chunk", leave=False):
        index.add(chunk)
    return index, time.perf_counter() - t0, rss() - before


def apply(index: Any, params: dict[str, int]) -> None:
    ps = faiss.ParameterSpace()
    for name, value in params.items():
        ps.set_index_parameter(index, name, value)


def recall_at_10(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean over queries of |found top 10 ∩ exact top 10| / 10."""
    return float(np.mean([len(set(f[:10]) & set(t[:10])) / 10 for f, t in zip(found, truth, strict=True)]))


def run_size(
    n: int, sampler: MatchedSampler | RealVectors, queries: np.ndarray, only: set[str] | None
) -> list[dict[str, Any]]:
    console = Console()
    console.print(f"[bold]{n:,} vectors[/]: drawn in chunks of {CHUNK:,}")
    if isinstance(sampler, RealVectors):
        sampler.next = 0
    chunks = [sampler.draw(min(CHUNK, n - lo)) for lo in range(0, n, CHUNK)]
    train = np.concatenate(chunks)[: min(n, 100_000)]
    rows: list[dict[str, Any]] = []
    truth: np.ndarray | None = None
    for spec in specs(n):
        if only and spec.factory.split(",")[-1] not in only and spec.factory not in only:
            continue
        index, seconds, grown = build(spec, chunks, train)
        size = int(faiss.serialize_index(index).nbytes)
        for params in spec.params:
            apply(index, params)
            t0 = time.perf_counter()
            _, found = index.search(queries, 10)
            batched = len(queries) / (time.perf_counter() - t0)
            single_q = queries[:200]
            t0 = time.perf_counter()
            for q in single_q:
                index.search(q[None, :], 10)
            single = len(single_q) / (time.perf_counter() - t0)
            if spec.factory == "Flat":
                truth = found
            assert truth is not None, "Flat runs first: it is the ground truth"
            row = {
                "name": row_name(n, spec.factory, params),
                "vectors": n,
                "index": spec.factory,
                "params": params,
                "build_s": round(seconds, 1),
                "size_mb": round(size / 2**20, 1),
                "rss_growth_mb": round(grown / 2**20, 1),
                "qps_batched": round(batched, 1),
                "qps_single": round(single, 1),
                "recall@10": round(recall_at_10(found, truth), 4),
            }
            rows.append(row)
            console.print(
                f"  {spec.factory:16s} {params!s:18s} build {seconds:7.1f}s  {size / 2**20:8.1f} MB  "
                f"batched {batched:9.1f} q/s  single {single:8.1f} q/s  recall@10 {row['recall@10']:.4f}"
            )
        del index
        gc.collect()
    return rows


def row_name(n: int, factory: str, params: dict[str, Any]) -> str:
    """A row's name, e.g. ``1000000:HNSW32:efSearch=128`` (no dots: check_2cr paths pick rows by it)."""
    return ":".join([str(n), factory, *(f"{k}={v}" for k, v in params.items())])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated factory strings or their last part")
    ap.add_argument("--sampler", default="gaussian", choices=["gaussian", "mixture", "real"])
    ap.add_argument("--clusters", type=int, default=1024, help="mixture components (k-means of real vectors)")
    ap.add_argument("--name", default="faiss_scale")
    args = ap.parse_args()
    faiss.omp_set_num_threads(args.threads)
    console = Console()
    real = real_vectors()
    sampler: MatchedSampler | RealVectors
    if args.sampler == "real":
        corpus, queries = encode_real(max(int(s) for s in args.sizes.split(",")), args.queries, args.seed)
        sampler = RealVectors(corpus)
        fake = corpus[: len(real)]
    else:
        sampler = MatchedSampler(real, args.seed, args.sampler, args.clusters)
        queries = sampler.draw(args.queries)
        fake = sampler.draw(len(real))
    # how close the sample is to the real passage vectors: nearest-neighbour cosine within each
    probe = faiss.IndexFlatIP(DIM)
    probe.add(real)
    real_nn = float(np.mean(probe.search(real[:1000], 2)[0][:, 1]))
    probe = faiss.IndexFlatIP(DIM)
    probe.add(fake)
    fake_nn = float(np.mean(probe.search(fake[:1000], 2)[0][:, 1]))
    console.print(
        f"{len(real):,} real MiniLM passage vectors -> {args.sampler}; mean nearest-neighbour cosine at "
        f"{len(real):,} vectors: real passages {real_nn:.3f}, {args.sampler} {fake_nn:.3f}"
    )
    only = set(args.only.split(",")) if args.only else None
    rows: list[dict[str, Any]] = []
    meta = {
        "vectors": (
            "real all-MiniLM-L6-v2 vectors of SQuAD train and SciFact sentences; queries real questions"
            if args.sampler == "real"
            else f"sampled ({args.sampler}) to match real all-MiniLM-L6-v2 passage vectors, unit length"
        ),
        "sampler": args.sampler,
        "clusters": args.clusters if args.sampler == "mixture" else None,
        "real_vectors": len(real),
        "nn_cosine": {"real": round(real_nn, 4), "sampled": round(fake_nn, 4)},
        "queries": args.queries,
        "seed": args.seed,
        "threads": args.threads,
        "faiss": faiss.__version__,
    }
    for n in (int(s) for s in args.sizes.split(",")):
        rows += run_size(n, sampler, queries, only)
        write_results(args.name, {**meta, "rows": rows})  # after each size: a long run keeps what it measured
    table = Table("vectors", "index", "search", "build s", "MB", "batched q/s", "single q/s", "recall@10")
    for r in rows:
        table.add_row(
            f"{r['vectors']:,}",
            r["index"],
            ", ".join(f"{k} {v}" for k, v in r["params"].items()),
            f"{r['build_s']:.1f}",
            f"{r['size_mb']:.0f}",
            f"{r['qps_batched']:.0f}",
            f"{r['qps_single']:.0f}",
            f"{r['recall@10']:.3f}",
        )
    console.print(table)
    path = write_results(args.name, {**meta, "rows": rows})
    console.print(f"results: {path}")


if __name__ == "__main__":
    main()
