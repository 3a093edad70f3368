"""Per-stage evaluation of a query graph on a dataset: where are the answers lost?

Every query goes through the graph once (:class:`odqa.pipelines.runner.QueryRunner` keeps every
component's output); then each stage is scored on its own:

* a **retrieval stage** (any component that outputs ``documents``: each retriever, the fusion,
  the re-ranker): its passages collapsed to documents (best passage, as ``odqa search`` does) are
  a TREC run, scored with :func:`odqa.eval.metrics.evaluate` against the dataset's qrels; with
  gold answers also *answer recall* ``AR@k`` (a gold answer string occurs in one of the top-``k``
  passages, :func:`odqa.eval.qa.answer_in_passages`);
* the **reader** (a component that outputs ``answers``): SQuAD exact match ``EM`` and ``F1`` of
  the top answer, and ``EM@k`` (one of the top-``k`` answers is an exact match).

The **funnel** follows the stages in graph order and says, for each, the share of queries whose
gold is still there: ``found`` = a relevant document anywhere in the stage's output
(``success@depth``), ``answer_found`` = a gold answer string anywhere in its passages, and for the
reader ``EM@k`` and ``EM``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from odqa.eval.datasets import EvalDataset
from odqa.eval.metrics import evaluate
from odqa.eval.qa import answer_in_passages, exact_match, f1
from odqa.eval.trec import Run, write_run
from odqa.pipelines.runner import RunResult, document_id
from odqa.pipelines.search import ranking_from_ids

__all__ = [
    "ANSWER_KS",
    "CURVE_KS",
    "DEFAULT_STAGE_METRICS",
    "RESULTS_KIND",
    "PipelineEvaluation",
    "QueryOutputs",
    "StageResult",
    "collect_outputs",
    "evaluate_outputs",
    "evaluate_pipeline",
]

RESULTS_KIND = "odqa-eval-results"
RESULTS_VERSION = 1

DEFAULT_STAGE_METRICS: tuple[str, ...] = (
    "P@1",
    "P@5",
    "P@10",
    "R@5",
    "R@10",
    "R@20",
    "R@100",
    "MAP",
    "MRR",
    "nDCG@10",
    "success@1",
    "success@5",
    "success@20",
)
"""Retrieval metrics computed for every retrieval stage when none are named."""

CURVE_KS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 40, 50, 75, 100)
"""Cutoffs of the P@k / R@k curves stored for the report."""

ANSWER_KS: tuple[int, ...] = (1, 3, 5, 10, 20, 100)
"""Cutoffs of answer recall ``AR@k`` (retrieval stages) and ``EM@k`` (reader)."""

StageKind = Literal["retrieval", "reader"]


@dataclass
class QueryOutputs:
    """What one query produced at every stage (only what evaluation needs).

    :ivar passages: stage -> ``[(doc_id, passage text)]`` in output order.
    :ivar answers: stage -> ``[(answer text, score, doc_id)]`` in output order.
    :ivar timings: component -> seconds.
    :ivar total_s: wall time of the whole graph.
    """

    passages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    answers: dict[str, list[tuple[str, float, str | None]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    total_s: float = 0.0


@dataclass
class StageResult:
    """The scores of one stage.

    :ivar name: the component name.
    :ivar kind: ``"retrieval"`` or ``"reader"``.
    :ivar depth: mean number of documents (retrieval) or answers (reader) output per query.
    :ivar means: metric -> mean over the evaluated queries.
    :ivar per_query: qid -> metric -> value.
    :ivar curves: ``{"P": {k: mean P@k}, "R": {k: mean R@k}}`` (retrieval stages).
    :ivar funnel: funnel measure -> share of queries (see the module docstring).
    """

    name: str
    kind: StageKind
    depth: float
    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    curves: dict[str, dict[int, float]] = field(default_factory=dict)
    funnel: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "depth": self.depth,
            "metrics": self.means,
            "funnel": self.funnel,
            "curves": {m: {str(k): v for k, v in c.items()} for m, c in self.curves.items()},
            "per_query": self.per_query,
        }


@dataclass
class PipelineEvaluation:
    """Everything :func:`evaluate_pipeline` found.

    :ivar pipeline: the graph's name.
    :ivar dataset: the dataset.
    :ivar stages: one :class:`StageResult` per stage, in graph order.
    :ivar runs: stage -> document-level TREC run (retrieval stages).
    :ivar predictions: qid -> top answers ``[{"answer", "score", "doc_id"}]`` (reader).
    :ivar latency_ms: component (and ``"total"``) -> ``{"mean", "p50", "p95"}`` milliseconds.
    :ivar ragas: :meth:`odqa.eval.ragas_eval.RagasResult.to_dict`, or ``None`` when not computed.
    :ivar extra: further facts for the results file (index directory, timings...).
    """

    pipeline: str
    dataset: EvalDataset
    stages: list[StageResult]
    runs: dict[str, Run]
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    ragas: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final_stage(self) -> StageResult:
        """The last retrieval stage (the one ``odqa search`` writes)."""
        retrieval = [s for s in self.stages if s.kind == "retrieval"]
        if not retrieval:
            raise ValueError(f"pipeline {self.pipeline!r} has no retrieval stage")
        return retrieval[-1]

    def stage(self, name: str) -> StageResult:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage {name!r}; stages are {[s.name for s in self.stages]}")

    def to_json(self) -> dict[str, Any]:
        """The results file's content (``kind = "odqa-eval-results"``)."""
        from odqa.utils.manifest import make_manifest

        return make_manifest(
            RESULTS_KIND,
            version=RESULTS_VERSION,
            pipeline=self.pipeline,
            dataset=self.dataset.describe(),
            final_stage=self.final_stage.name,
            stages=[s.to_dict() for s in self.stages],
            funnel=[{"stage": s.name, "kind": s.kind, **s.funnel} for s in self.stages],
            latency_ms=self.latency_ms,
            ragas=self.ragas,
            queries={q.qid: q.text for q in self.dataset.queries},
            predictions=self.predictions,
            **self.extra,
        )

    def write(
        self, out_dir: str | Path, *, stem: str | None = None, runs_dir: str | Path | None = None
    ) -> Path:
        """Write ``<stem>.json`` under ``out_dir`` and ``<stem>.<stage>.trec`` under ``runs_dir``.

        :param stem: file stem; default ``"<dataset>.<pipeline>"``.
        :param runs_dir: where the per-stage runs go; default ``<out_dir>/runs``.
        :returns: the path of the results file.
        """
        import json

        from odqa.utils.fs import atomic_write_text

        out = Path(out_dir)
        runs = Path(runs_dir) if runs_dir is not None else out / "runs"
        name = stem or f"{self.dataset.name}.{Path(self.pipeline).stem}"
        runs.mkdir(parents=True, exist_ok=True)
        run_files = {}
        for stage, run in self.runs.items():
            path = runs / f"{name}.{stage}.trec"
            write_run(run, path, tag=f"{Path(self.pipeline).stem}.{stage}")
            run_files[stage] = str(path)
        self.extra["run_files"] = run_files
        results = out / f"{name}.json"
        atomic_write_text(results, json.dumps(_json_safe(self.to_json()), indent=1) + "\n")
        results.chmod(0o644)  # a results file is meant to be shared (the temp file was 0600)
        return results


def _json_safe(obj: Any) -> Any:
    """NaN/inf become ``None``; floats are rounded to 6 decimals (results files stay small)."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else round(obj, 6)
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------- running
def outputs_from_result(result: RunResult) -> QueryOutputs:
    """Keep what evaluation needs from a :class:`odqa.pipelines.runner.RunResult` (stages in graph order)."""
    out = QueryOutputs(timings=dict(result.timings), total_s=float(result.total_s))
    for name, docs in result.documents_by_stage().items():
        out.passages[name] = [(document_id(d), d.content or "") for d in docs]
    for name, sockets in result.stages:
        answers = sockets.get("answers")
        if answers is not None:
            kept = []
            for a in answers:
                text = getattr(a, "data", None)
                if not isinstance(text, str) or not text:
                    continue
                doc = getattr(a, "document", None)
                kept.append((text, float(getattr(a, "score", 0.0) or 0.0), document_id(doc) if doc else None))
            out.answers[name] = kept
    return out


def collect_outputs(
    runner: Any,
    dataset: EvalDataset,
    *,
    progress: bool = True,
    desc: str | None = None,
) -> dict[str, QueryOutputs]:
    """Run every query of ``dataset`` through ``runner`` (a warmed-up ``QueryRunner``).

    :returns: qid -> :class:`QueryOutputs`, in dataset order.
    """
    from tqdm import tqdm

    runner.warm_up()
    outputs: dict[str, QueryOutputs] = {}
    for q in tqdm(dataset.queries, desc=desc or "evaluating", unit="query", disable=not progress):
        outputs[q.qid] = outputs_from_result(runner.run(q.text))
    return outputs


# ---------------------------------------------------------------------------------------- scoring
def _stage_order(outputs: dict[str, QueryOutputs]) -> list[tuple[str, StageKind]]:
    """Stages in graph order (the order of the first query's outputs, then any seen later)."""
    order: dict[str, StageKind] = {}
    for qo in outputs.values():
        for name in qo.passages:
            order.setdefault(name, "retrieval")
        for name in qo.answers:
            order.setdefault(name, "reader")
    return list(order.items())


def _retrieval_stage(
    name: str,
    dataset: EvalDataset,
    outputs: dict[str, QueryOutputs],
    metrics: Sequence[str],
    top_k: int,
) -> tuple[StageResult, Run]:
    run: Run = {
        qid: ranking_from_ids((d for d, _ in qo.passages.get(name, [])), top_k=top_k)
        for qid, qo in outputs.items()
    }
    depth = float(np.mean([len(r) for r in run.values()])) if run else 0.0
    max_depth = max((len(r) for r in run.values()), default=1) or 1
    found_metric = f"success@{max_depth}"
    all_metrics = list(dict.fromkeys([*metrics, found_metric, f"R@{max_depth}"]))
    result = evaluate(dataset.qrels, run, all_metrics, missing_as_zero=True, per_query=True)
    per_query = {q: {m: v for m, v in vals.items() if m in metrics} for q, vals in result.per_query.items()}
    means = {m: result.means[m] for m in metrics}
    funnel = {"found": result.means[found_metric], "recall_all": result.means[f"R@{max_depth}"]}
    curve_names = [f"P@{k}" for k in CURVE_KS] + [f"R@{k}" for k in CURVE_KS]
    curve = evaluate(dataset.qrels, run, curve_names, missing_as_zero=True).means
    curves = {
        "P": {k: curve[f"P@{k}"] for k in CURVE_KS},
        "R": {k: curve[f"R@{k}"] for k in CURVE_KS},
    }
    if dataset.has_answers:
        ks = [k for k in ANSWER_KS if k <= top_k]
        found = []
        for qid, qo in outputs.items():
            texts = [t for _, t in qo.passages.get(name, [])]
            golds = dataset.answers[qid]
            row = per_query.setdefault(qid, {})
            for k in ks:
                row[f"AR@{k}"] = float(answer_in_passages(texts, golds, k)) if texts else 0.0
            found.append(float(answer_in_passages(texts, golds, len(texts))) if texts else 0.0)
        for k in ks:
            means[f"AR@{k}"] = float(np.mean([per_query[q][f"AR@{k}"] for q in outputs]))
        funnel["answer_found"] = float(np.mean(found)) if found else 0.0
    stage = StageResult(name, "retrieval", depth, means, per_query, curves, funnel)
    return stage, run


def _reader_stage(name: str, dataset: EvalDataset, outputs: dict[str, QueryOutputs]) -> StageResult:
    per_query: dict[str, dict[str, float]] = {}
    depths = []
    max_k = max((len(qo.answers.get(name, [])) for qo in outputs.values()), default=1) or 1
    ks = sorted({k for k in ANSWER_KS if k < max_k} | {max_k})
    for qid, qo in outputs.items():
        answers = [a for a, _, _ in qo.answers.get(name, [])]
        depths.append(len(answers))
        golds = dataset.answers.get(qid)
        if not golds:
            continue
        ems = [exact_match(a, golds) for a in answers]
        row = {"EM": ems[0] if ems else 0.0, "F1": f1(answers[0], golds) if answers else 0.0}
        for k in ks:
            row[f"EM@{k}"] = max(ems[:k], default=0.0)
        per_query[qid] = row
    names = ["EM", "F1", *(f"EM@{k}" for k in ks)]
    means = {m: float(np.mean([row[m] for row in per_query.values()])) if per_query else 0.0 for m in names}
    funnel = {f"EM@{max_k}": means[f"EM@{max_k}"], "EM": means["EM"]} if per_query else {}
    depth = float(np.mean(depths)) if depths else 0.0
    return StageResult(name, "reader", depth, means, per_query, funnel=funnel)


def _latency(outputs: dict[str, QueryOutputs]) -> dict[str, dict[str, float]]:
    series: dict[str, list[float]] = {"total": [qo.total_s for qo in outputs.values()]}
    for qo in outputs.values():
        for comp, s in qo.timings.items():
            series.setdefault(comp, []).append(s)
    out = {}
    for comp, values in series.items():
        ms = np.asarray(values, dtype=np.float64) * 1000.0
        out[comp] = {
            "mean": round(float(ms.mean()), 3),
            "p50": round(float(np.percentile(ms, 50)), 3),
            "p95": round(float(np.percentile(ms, 95)), 3),
        }
    return out


def evaluate_outputs(
    pipeline: str,
    dataset: EvalDataset,
    outputs: dict[str, QueryOutputs],
    *,
    metrics: Sequence[str] = DEFAULT_STAGE_METRICS,
    top_k: int = 100,
) -> PipelineEvaluation:
    """Score the collected outputs of every stage (see the module docstring).

    Queries without output for a stage score 0 there (``missing_as_zero``): a stage that lost a
    query is penalised, not skipped.

    :param pipeline: the graph's name (for the results).
    :param outputs: from :func:`collect_outputs`.
    :param metrics: retrieval metrics for every retrieval stage.
    :param top_k: documents per query kept in each stage's run.
    """
    stages: list[StageResult] = []
    runs: dict[str, Run] = {}
    for name, kind in _stage_order(outputs):
        if kind == "retrieval":
            stage, run = _retrieval_stage(name, dataset, outputs, metrics, top_k)
            runs[name] = run
            stages.append(stage)
        elif dataset.has_answers:
            stages.append(_reader_stage(name, dataset, outputs))
    predictions = {
        qid: [{"answer": a, "score": round(s, 5), "doc_id": d} for a, s, d in answers[:5]]
        for qid, qo in outputs.items()
        for answers in list(qo.answers.values())[-1:]
    }
    evaluation = PipelineEvaluation(pipeline, dataset, stages, runs, predictions, _latency(outputs))
    evaluation.final_stage  # noqa: B018 - raises early for a graph without documents
    return evaluation


def ragas_samples(
    dataset: EvalDataset,
    outputs: dict[str, QueryOutputs],
    *,
    reference_texts: Callable[[Iterable[str]], dict[str, str]] | None = None,
    max_contexts: int = 10,
) -> list[Any]:
    """Build one :class:`odqa.eval.ragas_eval.RagasSample` per query.

    The contexts are the passages of the last retrieval stage (those the reader reads, for a QA
    graph), at most ``max_contexts``; the response is the reader's top answer, if any.

    :param reference_texts: maps gold doc ids to their texts (BEIR); SQuAD uses its contexts.
    """
    from odqa.eval.ragas_eval import RagasSample

    order = _stage_order(outputs)
    retrieval = [n for n, k in order if k == "retrieval"]
    readers = [n for n, k in order if k == "reader"]
    last = retrieval[-1] if retrieval else None
    gold_ids = {qid: [d for d, g in docs.items() if g >= 1] for qid, docs in dataset.qrels.items()}
    texts: dict[str, str] = {}
    if not dataset.contexts and reference_texts is not None:
        texts = reference_texts({d for ids in gold_ids.values() for d in ids})
    samples = []
    for q in dataset.queries:
        qo = outputs[q.qid]
        passages = qo.passages.get(last, [])[:max_contexts] if last else []
        answers = qo.answers.get(readers[-1], []) if readers else []
        if q.qid in dataset.contexts:
            refs = [dataset.contexts[q.qid]]
        else:
            refs = [texts[d] for d in gold_ids.get(q.qid, []) if d in texts]
        samples.append(
            RagasSample(
                qid=q.qid,
                question=q.text,
                contexts=[t for _, t in passages],
                context_ids=[d for d, _ in passages],
                reference_ids=gold_ids.get(q.qid, []),
                reference_contexts=refs,
                response=answers[0][0] if answers else None,
                references=dataset.answers.get(q.qid, []),
            )
        )
    return samples


def beir_reference_texts(dataset: EvalDataset) -> Callable[[Iterable[str]], dict[str, str]]:
    """A ``reference_texts`` function reading the wanted documents from a BEIR corpus."""

    def read(ids: Iterable[str]) -> dict[str, str]:
        from odqa.corpus.beir import read_beir_corpus

        wanted = set(ids)
        out = {}
        for doc in read_beir_corpus(dataset.path, progress=False):
            if doc.doc_id in wanted:
                out[doc.doc_id] = doc.text  # the indexed passage's content (the title is in its meta)
        return out

    return read


def evaluate_pipeline(
    runner: Any,
    pipeline: str,
    dataset: EvalDataset,
    *,
    metrics: Sequence[str] = DEFAULT_STAGE_METRICS,
    top_k: int = 100,
    ragas: bool | None = None,
    progress: bool = True,
) -> PipelineEvaluation:
    """Run ``dataset`` through ``runner`` and evaluate every stage.

    :param runner: a :class:`odqa.pipelines.runner.QueryRunner` on the dataset's index.
    :param pipeline: the graph's name.
    :param ragas: compute the ragas metrics (:mod:`odqa.eval.ragas_eval`); ``None`` = only for a
        graph with a reader.
    """
    t0 = time.perf_counter()
    outputs = collect_outputs(
        runner, dataset, progress=progress, desc=f"{Path(pipeline).stem} on {dataset.name}"
    )
    run_s = time.perf_counter() - t0
    evaluation = evaluate_outputs(pipeline, dataset, outputs, metrics=metrics, top_k=top_k)
    has_reader = any(s.kind == "reader" for s in evaluation.stages)
    if ragas or (ragas is None and has_reader):
        from odqa.eval.ragas_eval import llm_config_from_env, ragas_evaluate

        t1 = time.perf_counter()
        reference = beir_reference_texts(dataset) if dataset.kind == "beir" else None
        samples = ragas_samples(dataset, outputs, reference_texts=reference)
        config, reason = llm_config_from_env()
        evaluation.ragas = ragas_evaluate(samples, llm=config, llm_skip_reason=reason).to_dict()
        evaluation.extra["ragas_s"] = round(time.perf_counter() - t1, 2)
    evaluation.extra["run_s"] = round(run_s, 2)
    evaluation.extra["queries_per_s"] = round(len(outputs) / run_s, 2) if run_s > 0 else None
    evaluation.extra["median_total_ms"] = (
        round(statistics.median(qo.total_s for qo in outputs.values()) * 1000, 2) if outputs else None
    )
    return evaluation
