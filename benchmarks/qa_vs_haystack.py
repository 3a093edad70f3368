"""odqa's `qa` graph against a stock Haystack pipeline: same questions, same models, same top-k.

    python benchmarks/qa_vs_haystack.py --reader DIR [--reranker DIR] [--questions 200] [--seed 13]
        [--warm-up 3] [--name qa_vs_haystack] [--max-passages N] [--set reader.precision=int8]

Both systems search the passages of SQuAD dev part A as odqa indexes them for evaluation (1,469
paragraphs, one passage each; ``benchmarks/work/squad-index``, built once as in qa_latency.py) and
answer the same seeded sample of its questions in one process:

* **haystack** -- stock Haystack 3 components only: an ``InMemoryDocumentStore`` holding exactly the
  passages of odqa's index, embedded by ``SentenceTransformersDocumentEmbedder`` with odqa's embedder
  and ``meta_fields_to_embed=["title"]`` as odqa's indexing graph does (embedded once, cached under
  ``benchmarks/work/haystack-embeddings/`` by index manifest + embedder);
  ``InMemoryBM25Retriever(top_k=50)`` and ``SentenceTransformersTextEmbedder`` ->
  ``InMemoryEmbeddingRetriever(top_k=50)``, joined by ``DocumentJoiner(reciprocal_rank_fusion,
  top_k=3)``, read by ``TransformersExtractiveReader(top_k=5, no_answer=False, max_seq_length=256,
  stride=96)`` with odqa's reader. Everything else is the components' defaults.
* **odqa** -- ``open_runner(env, "qa")`` with the same reader (odqa's NER-boosted BM25, FAISS,
  RRF top 3, reader, answer/passage fusion); ``--set`` overrides its graphs (e.g. the int8 reader).

With ``--reranker DIR`` a second configuration mirrors ``qa_rerank``: the stock joiner keeps 20,
``SentenceTransformersSimilarityRanker(top_k=3)`` with that cross-encoder picks the reader's three,
against odqa's ``qa_rerank`` graph with the same re-ranker.

Every pipeline is loaded and warmed up on ``--warm-up`` questions outside the sample (not timed);
then the systems alternate question by question (the order flips every question) so that load
changes on the machine hit both alike. Per configuration it prints and stores: total and
per-component latency p50/p95 (odqa's runner times its stages; the stock pipelines are timed by a
``haystack.tracing.Tracer`` that records every ``haystack.component.run`` span), SQuAD EM/F1 of the
top answer against all gold answers, how often the gold paragraph was among the passages read, the
speed ratio (haystack p50 / odqa p50), the share of questions where both give the same top answer
(SQuAD-normalised), and odqa - haystack EM/F1 with a paired randomization test. The machine's
reference speed is printed first and stored with the results.

Targets: odqa >= 2x faster than the stock pipeline at p50 with equal or better F1; odqa `qa` p50
<= 250 ms, `qa_rerank` (re-ranking depth 20) p50 <= 500 ms, on 2 idle cores.

``--max-passages N`` restricts both systems to the first N passages of the index (a small index of
those paragraphs is built under ``benchmarks/work/``; questions are drawn among those whose gold
paragraph is in it): for smoke tests only, its numbers are not comparable with full runs.
Writes ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from _common import WORK, bench_env, data_dir, summarize_ms, write_results
from haystack import Document, Pipeline, tracing
from haystack.components.joiners import DocumentJoiner
from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
from haystack.document_stores.in_memory import InMemoryDocumentStore
from haystack.tracing import Span, Tracer
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
    SentenceTransformersTextEmbedder,
)
from haystack_integrations.components.rankers.sentence_transformers import (
    SentenceTransformersSimilarityRanker,
)
from haystack_integrations.components.readers.transformers import TransformersExtractiveReader
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.corpus.squad import read_squad
from odqa.corpus.types import QAExample
from odqa.eval.datasets import ensure_index, load_dataset
from odqa.eval.qa import exact_match, f1, normalize_answer
from odqa.eval.significance import compare_per_query
from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.loader import parse_overrides
from odqa.pipelines.runner import QueryRunner
from odqa.train.speed import cpu_name, reference_speed

#: the pipelines' top-k values, as in odqa/pipelines/qa.yaml and qa_rerank.yaml
RETRIEVER_TOP_K = 50
READ_TOP_K = 3
RERANK_DEPTH = 20
ANSWERS_TOP_K = 5
TARGETS: dict[str, Any] = {
    "speed_ratio_p50_min": 2.0,
    "f1_delta_min": 0.0,
    "odqa_p50_ms_max": {"qa": 250.0, "qa_rerank": 500.0},
    "conditions": "2 idle cores",
}
SYSTEMS = ("haystack", "odqa")
COMPONENT_RUN = "haystack.component.run"
COMPONENT_NAME = "haystack.component.name"


# ---------------------------------------------------------------- per-component timing (stock side)
class _NullSpan(Span):
    def set_tag(self, key: str, value: Any) -> None:
        pass


class ComponentTimer(Tracer):
    """A Haystack tracer that records the wall time of every component run (seconds, summed per
    component name) between :meth:`start` and :meth:`stop`, in the calling thread. Spans are passed
    on to the tracer installed before it, if any (odqa's runner installs its own timer on top of
    whatever is there, so both keep working)."""

    def __init__(self, inner: Tracer | None = None) -> None:
        self.inner = inner
        self._local = threading.local()

    def _spans(self) -> list[Span]:
        if not hasattr(self._local, "spans"):
            self._local.spans = []
        spans: list[Span] = self._local.spans
        return spans

    def start(self) -> None:
        self._local.timings = {}

    def stop(self) -> dict[str, float]:
        timings: dict[str, float] = getattr(self._local, "timings", None) or {}
        self._local.timings = None
        return timings

    @contextlib.contextmanager
    def trace(
        self, operation_name: str, tags: dict[str, Any] | None = None, parent_span: Span | None = None
    ) -> Iterator[Span]:
        timings: dict[str, float] | None = getattr(self._local, "timings", None)
        t0 = time.perf_counter()
        with contextlib.ExitStack() as stack:
            span: Span = (
                stack.enter_context(self.inner.trace(operation_name, tags, parent_span))
                if self.inner is not None
                else _NullSpan()
            )
            self._spans().append(span)
            try:
                yield span
            finally:
                self._spans().pop()
                if timings is not None and operation_name == COMPONENT_RUN and tags:
                    name = str(tags.get(COMPONENT_NAME))
                    timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0

    def current_span(self) -> Span | None:
        if self.inner is not None:
            return self.inner.current_span()
        spans = self._spans()
        return spans[-1] if spans else None


def install_timer() -> ComponentTimer:
    """A :class:`ComponentTimer` installed as Haystack's tracer (wrapping the one there before)."""
    inner = tracing.tracer.actual_tracer if tracing.is_tracing_enabled() else None
    timer = ComponentTimer(inner)
    tracing.enable_tracing(timer)
    return timer


# ---------------------------------------------------------------- the two systems
@dataclass
class Outcome:
    """One question's run on one system."""

    total_s: float
    timings: dict[str, float]
    answer: str
    read_doc_ids: list[str]


def _top_answer(answers: list[Any]) -> str:
    texts = [a.data for a in answers if a.data]
    return str(texts[0]) if texts else ""


def _read_doc_ids(outputs: dict[str, dict[str, Any]]) -> list[str]:
    """``doc_id`` of the passages the reader read (the ranker's, else the joiner's output)."""
    stage = outputs.get("ranker") or outputs.get("fusion") or {}
    return [str(d.meta.get("doc_id", d.id)) for d in stage.get("documents", [])]


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


class System(Protocol):
    name: str

    def warm_up(self) -> None: ...

    def run(self, question: str) -> Outcome: ...

    def describe(self) -> dict[str, Any]: ...


class HaystackSystem:
    """A stock Haystack pipeline, fed the question at every unconnected ``query``/``text`` input,
    timed as a whole and per component (:class:`ComponentTimer`)."""

    name = "haystack"

    def __init__(self, pipeline: Pipeline, timer: ComponentTimer) -> None:
        self.pipeline = pipeline
        self.timer = timer
        self.components = list(pipeline.graph.nodes)
        self._inputs = {
            comp: [s for s in sockets if s in ("query", "text")]
            for comp, sockets in pipeline.inputs().items()
        }
        self._inputs = {c: s for c, s in self._inputs.items() if s}

    def warm_up(self) -> None:
        self.pipeline.warm_up()

    def run(self, question: str) -> Outcome:
        data = {c: dict.fromkeys(sockets, question) for c, sockets in self._inputs.items()}
        self.timer.start()
        t0 = time.perf_counter()
        try:  # outputs of every component, as odqa's runner asks for
            outputs = self.pipeline.run(data, include_outputs_from=set(self.components))
        finally:
            total = time.perf_counter() - t0
            timings = self.timer.stop()
        return Outcome(total, timings, _top_answer(outputs["reader"]["answers"]), _read_doc_ids(outputs))

    def describe(self) -> dict[str, Any]:
        return {"components": _jsonable(self.pipeline.to_dict()["components"])}


class OdqaSystem:
    """An odqa graph through odqa's own runner (which times each stage)."""

    name = "odqa"

    def __init__(self, runner: QueryRunner, graph: str) -> None:
        self.runner = runner
        self.graph = graph

    def warm_up(self) -> None:
        self.runner.warm_up()

    def run(self, question: str) -> Outcome:
        res = self.runner.run(question)
        return Outcome(res.total_s, dict(res.timings), _top_answer(res.answers), _read_doc_ids(res.outputs))

    def describe(self) -> dict[str, Any]:
        return {"graph": self.graph, "components": _jsonable(self.runner.pipeline.to_dict()["components"])}


# ---------------------------------------------------------------- passages and the stock document store
def index_passages(index_dir: Path) -> list[Document]:
    """Every passage of the odqa index at ``index_dir``, in index order (its BM25 store)."""
    return EmbeddedBM25DocumentStore(path=str(index_dir / "bm25")).filter_documents()


def embedded_passages(index_dir: Path, embedder: str, console: Console) -> list[Document]:
    """The index's passages as new Documents with stock ``SentenceTransformersDocumentEmbedder``
    embeddings (title embedded with the text, as odqa's indexing graph does); embedded once, then
    read from a cache keyed by the index manifest and the embedder."""
    passages = [Document(id=d.id, content=d.content, meta=dict(d.meta)) for d in index_passages(index_dir)]
    ids = [d.id for d in passages]
    key = hashlib.sha1(
        (index_dir / "manifest.json").read_bytes() + f"\n{embedder}\nmeta_fields_to_embed=title".encode()
    ).hexdigest()[:16]
    cache = WORK / "haystack-embeddings" / f"{index_dir.name}-{key}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as saved:
            if [str(i) for i in saved["ids"]] == ids:
                console.print(f"stock passage embeddings: {cache} ({len(ids)} passages)")
                vectors = saved["vectors"]
                return [replace(d, embedding=v.tolist()) for d, v in zip(passages, vectors, strict=True)]
    console.print(f"embedding {len(passages)} passages with the stock document embedder ({embedder})")
    doc_embedder = SentenceTransformersDocumentEmbedder(
        model=embedder, batch_size=32, progress_bar=True, meta_fields_to_embed=["title"]
    )
    doc_embedder.warm_up()
    embedded: list[Document] = doc_embedder.run(documents=passages)["documents"]
    vectors = np.asarray([d.embedding for d in embedded], dtype=np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        np.savez(fh, ids=np.asarray(ids), vectors=vectors)
    tmp.replace(cache)
    return embedded


def stock_store(documents: list[Document]) -> InMemoryDocumentStore:
    """An in-memory store with ``documents``; cosine similarity, as odqa's FAISS index (``metric:
    cosine``); BM25 and everything else at Haystack's defaults."""
    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    store.write_documents(documents)
    return store


def stock_pipeline(
    store: InMemoryDocumentStore, *, embedder: str, reader: str, reranker: str | None
) -> Pipeline:
    """Hybrid BM25 + dense retrieval, RRF, (re-ranking,) extractive reader: stock components named
    like the stages of odqa's graphs, so that the per-stage columns line up."""
    p = Pipeline()
    p.add_component("bm25", InMemoryBM25Retriever(document_store=store, top_k=RETRIEVER_TOP_K))
    p.add_component("query_embedder", SentenceTransformersTextEmbedder(model=embedder, progress_bar=False))
    p.add_component("dense", InMemoryEmbeddingRetriever(document_store=store, top_k=RETRIEVER_TOP_K))
    depth = RERANK_DEPTH if reranker else READ_TOP_K
    p.add_component("fusion", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=depth))
    p.add_component(
        "reader",
        TransformersExtractiveReader(
            model=reader, top_k=ANSWERS_TOP_K, no_answer=False, max_seq_length=256, stride=96
        ),
    )
    p.connect("query_embedder.embedding", "dense.query_embedding")
    p.connect("bm25.documents", "fusion.documents")
    p.connect("dense.documents", "fusion.documents")
    if reranker:
        p.add_component("ranker", SentenceTransformersSimilarityRanker(model=reranker, top_k=READ_TOP_K))
        p.connect("fusion.documents", "ranker.documents")
        p.connect("ranker.documents", "reader.documents")
    else:
        p.connect("fusion.documents", "reader.documents")
    return p


# ---------------------------------------------------------------- index (full, or its first N passages)
def restricted_index(squad: Path, full_index: Path, n: int, console: Console) -> Path:
    """An odqa index of the first ``n`` passages of ``full_index`` (smoke tests): the first ``n``
    paragraphs of ``squad`` written to a SQuAD file and indexed as ``full_index`` was. Checked to
    hold exactly the first ``n`` passages of ``full_index``."""
    subset = WORK / f"{squad.stem}-first{n}.json"
    if not subset.is_file():
        raw = json.loads(squad.read_text(encoding="utf-8"))
        data, left = [], n
        for article in raw["data"]:
            if left <= 0:
                break
            data.append({**article, "paragraphs": article["paragraphs"][:left]})
            left -= len(data[-1]["paragraphs"])
        subset.write_text(json.dumps({**raw, "data": data}), encoding="utf-8")
    index_dir = WORK / f"{full_index.name}-first{n}"
    ensure_index(load_dataset(subset), bench_env(index_dir))
    expected = [d.id for d in index_passages(full_index)[:n]]
    got = [d.id for d in index_passages(index_dir)]
    if got != expected:
        raise SystemExit(f"{index_dir} does not hold the first {n} passages of {full_index}")
    console.print(f"[yellow]--max-passages {n}: smoke test on {index_dir}; not comparable with full runs")
    return index_dir


# ---------------------------------------------------------------- one configuration
def run_configuration(
    graph: str,
    systems: list[System],
    sample: list[QAExample],
    warm: list[QAExample],
    console: Console,
) -> tuple[dict[str, Any], dict[str, dict[str, Outcome]]]:
    """Warm up, then answer ``sample`` with every system, alternating their order per question."""
    load_s: dict[str, float] = {}
    for system in systems:
        t0 = time.perf_counter()
        system.warm_up()
        for ex in warm:
            system.run(ex.question)
        load_s[system.name] = round(time.perf_counter() - t0, 2)
    outcomes: dict[str, dict[str, Outcome]] = {s.name: {} for s in systems}
    for i, ex in enumerate(tqdm(sample, desc=graph, unit="q")):
        for system in systems if i % 2 == 0 else systems[::-1]:
            outcomes[system.name][ex.qid] = system.run(ex.question)

    per_system: dict[str, Any] = {}
    per_query: dict[str, dict[str, dict[str, float]]] = {}
    for system in systems:
        runs = outcomes[system.name]
        per_query[system.name] = {
            ex.qid: {
                "EM": exact_match(runs[ex.qid].answer, ex.answers),
                "F1": f1(runs[ex.qid].answer, ex.answers),
            }
            for ex in sample
        }
        stages: dict[str, list[float]] = {}
        for out in runs.values():
            for stage, seconds in out.timings.items():
                stages.setdefault(stage, []).append(seconds)
        scores = per_query[system.name]
        per_system[system.name] = {
            **system.describe(),
            "warm_up_s": load_s[system.name],
            "latency": {
                "total": summarize_ms([o.total_s for o in runs.values()]),
                **{s: summarize_ms(v) for s, v in stages.items()},
            },
            "exact_match": round(100 * sum(v["EM"] for v in scores.values()) / len(sample), 2),
            "f1": round(100 * sum(v["F1"] for v in scores.values()) / len(sample), 2),
            "gold_paragraph_in_read": round(
                sum(ex.doc_id in runs[ex.qid].read_doc_ids for ex in sample) / len(sample), 4
            ),
        }
    stock, ours = (per_system[s] for s in SYSTEMS)
    same = [
        normalize_answer(outcomes["haystack"][ex.qid].answer)
        == normalize_answer(outcomes["odqa"][ex.qid].answer)
        for ex in sample
    ]
    comparisons = compare_per_query(per_query["odqa"], per_query["haystack"], ["EM", "F1"])
    ratio = stock["latency"]["total"]["p50_ms"] / ours["latency"]["total"]["p50_ms"]
    f1_delta = 100 * comparisons[1].delta
    result = {
        "graph": graph,
        "systems": per_system,
        "speed_ratio_p50": round(ratio, 3),
        "same_top_answer": round(sum(same) / len(sample), 4),
        "odqa_minus_haystack": [c.to_dict() for c in comparisons],
        "targets_met": {
            "speed_ratio_p50": ratio >= TARGETS["speed_ratio_p50_min"],
            "f1_not_lower": f1_delta >= TARGETS["f1_delta_min"],
            "odqa_p50_ms": ours["latency"]["total"]["p50_ms"] <= TARGETS["odqa_p50_ms_max"][graph],
        },
    }
    print_configuration(result, console)
    return result, outcomes


def print_configuration(result: dict[str, Any], console: Console) -> None:
    systems = result["systems"]
    stages: list[str] = []
    for name in ("odqa", "haystack"):  # odqa's graph order, then the stock pipeline's extra names
        stages += [s for s in systems[name]["latency"] if s != "total" and s not in stages]
    table = Table(
        "system",
        "p50 ms",
        "p95 ms",
        *[f"{s}\np50 ms" for s in stages],
        "EM",
        "F1",
        "gold read",
        title=f"{result['graph']}: stock Haystack vs odqa",
    )
    for name in SYSTEMS:
        row = systems[name]
        lat = row["latency"]
        table.add_row(
            name if name == "odqa" else f"{name} (stock)",
            f"{lat['total']['p50_ms']:.0f}",
            f"{lat['total']['p95_ms']:.0f}",
            *[f"{lat[s]['p50_ms']:.1f}" if s in lat else "-" for s in stages],
            f"{row['exact_match']:.1f}",
            f"{row['f1']:.1f}",
            f"{row['gold_paragraph_in_read']:.3f}",
        )
    console.print(table)
    em, f1_cmp = result["odqa_minus_haystack"]
    met = ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["targets_met"].items())
    console.print(
        f"speed ratio (haystack p50 / odqa p50) {result['speed_ratio_p50']:.2f}x   same top answer "
        f"{100 * result['same_top_answer']:.1f}%   odqa - haystack: EM {100 * em['delta']:+.1f} "
        f"(p {em['p_randomization']:.2g}), F1 {100 * f1_cmp['delta']:+.1f} "
        f"(p {f1_cmp['p_randomization']:.2g})"
        f"\ntargets: {met}"
    )


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", required=True, help="reader model directory (both systems)")
    ap.add_argument("--reranker", help="re-ranker model directory: also compare qa_rerank")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--warm-up", type=int, default=3, help="untimed questions per pipeline first")
    ap.add_argument("--name", default="qa_vs_haystack")
    ap.add_argument(
        "--max-passages", type=int, default=None, help="only the first N passages (smoke tests only)"
    )
    ap.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        help="odqa graph override component.param=value (repeat), e.g. reader.precision=int8",
    )
    args = ap.parse_args()
    if args.questions < 1 or args.warm_up < 0 or (args.max_passages is not None and args.max_passages < 1):
        ap.error("--questions and --max-passages must be >= 1, --warm-up >= 0")
    console = Console(width=160)
    ref = reference_speed()
    console.print(ref.summary())

    squad = data_dir() / "squad" / "dev-v1.1-part-a.json"
    index_dir = WORK / "squad-index"
    ensure_index(load_dataset(squad), bench_env(index_dir))
    if args.max_passages is not None:
        index_dir = restricted_index(squad, index_dir, args.max_passages, console)
    env: PipelineEnv = bench_env(index_dir, reader=args.reader, reranker=args.reranker)
    models = {"embedder": env.registry.resolve("embedder").require().location}
    models["reader"] = env.registry.resolve("reader").require().location
    if args.reranker:
        models["reranker"] = env.registry.resolve("reranker").require().location

    passages = index_passages(index_dir)
    in_index = {str(d.meta.get("doc_id", d.id)) for d in passages}
    _, examples = read_squad(squad, progress=False)
    eligible = [ex for ex in examples if ex.doc_id in in_index]
    if len(eligible) < args.questions + args.warm_up:
        raise SystemExit(f"only {len(eligible)} questions have their paragraph in the index")
    sample = random.Random(args.seed).sample(eligible, args.questions)
    chosen = {ex.qid for ex in sample}
    warm = [ex for ex in eligible if ex.qid not in chosen][: args.warm_up]

    store = stock_store(embedded_passages(index_dir, models["embedder"], console))
    timer = install_timer()
    graphs = ["qa", *(["qa_rerank"] if args.reranker else [])]
    configurations: dict[str, Any] = {}
    answers: dict[str, dict[str, dict[str, Outcome]]] = {}
    for graph in graphs:
        stock = HaystackSystem(
            stock_pipeline(
                store,
                embedder=models["embedder"],
                reader=models["reader"],
                reranker=models.get("reranker") if graph == "qa_rerank" else None,
            ),
            timer,
        )
        ours = OdqaSystem(open_runner(env, graph, parse_overrides(args.sets), warm_up=False), graph)
        configurations[graph], answers[graph] = run_configuration(graph, [stock, ours], sample, warm, console)
        del stock, ours  # one configuration's models in memory at a time

    per_question = [
        {
            "qid": ex.qid,
            "question": ex.question,
            "gold": list(ex.answers),
            "gold_doc_id": ex.doc_id,
            "answers": {
                g: {
                    s: {"answer": o[ex.qid].answer, "ms": round(1000 * o[ex.qid].total_s, 1)}
                    for s, o in a.items()
                }
                for g, a in answers.items()
            },
        }
        for ex in sample
    ]
    payload = {
        "dataset": str(squad),
        "index": {
            "dir": str(index_dir),
            "passages": len(passages),
            "max_passages": args.max_passages,
            "smoke_test": args.max_passages is not None,
        },
        "models": models,
        "top_k": {
            "retrievers": RETRIEVER_TOP_K,
            "read": READ_TOP_K,
            "rerank_depth": RERANK_DEPTH,
            "answers": ANSWERS_TOP_K,
        },
        "odqa_overrides": args.sets,
        "questions": len(sample),
        "seed": args.seed,
        "warm_up_questions": [ex.qid for ex in warm],
        "order": "systems alternate per question (order flipped every question)",
        "cpu": cpu_name(),
        "reference_speed": ref.as_dict(),
        "targets": TARGETS,
        "configurations": configurations,
        "per_question": per_question,
    }
    console.print(f"results: {write_results(args.name, payload)}")


if __name__ == "__main__":
    main()
