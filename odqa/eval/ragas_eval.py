"""ragas metrics on a pipeline's outputs: the ones that need no LLM always, LLM-judged ones on demand.

Without an LLM (offline, deterministic), per query:

=================================  ==========================================================
``ragas_id_context_precision``     ragas ``IDBasedContextPrecision``: share of the retrieved
                                   context ids that are gold ids
``ragas_id_context_recall``        ragas ``IDBasedContextRecall``: share of the gold ids retrieved
``ragas_context_precision``        ragas ``NonLLMContextPrecisionWithReference``: average
                                   precision of the retrieved contexts, a context counting as
                                   relevant when its Levenshtein similarity to a gold context is
                                   >= 0.5
``ragas_context_recall``           ragas ``NonLLMContextRecall``: share of the gold contexts
                                   matched (similarity >= 0.5) by a retrieved context
``ragas_answer_similarity``        ragas ``NonLLMStringSimilarity`` (normalised Levenshtein)
                                   between the answer and the best gold answer
``ragas_answer_exact_match``       ragas ``ExactMatch`` (raw string equality, no normalisation,
                                   unlike SQuAD EM) against any gold answer
=================================  ==========================================================

The answer metrics need gold answers and a predicted answer (a pipeline with a reader on SQuAD
data).  With an LLM endpoint configured (:func:`llm_config_from_env`: ``OPENAI_API_KEY``, and
optionally ``OPENAI_BASE_URL`` / ``ODQA_RAGAS_MODEL``), the LLM-judged ragas metrics
``ragas_faithfulness``, ``ragas_llm_context_recall`` and ``ragas_llm_context_precision`` are added;
otherwise they are reported as skipped, with the reason.

ragas is imported only inside :func:`ragas_evaluate` (importing it takes seconds).
"""

from __future__ import annotations

import asyncio
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ANSWER_METRICS",
    "CONTEXT_METRICS",
    "LLM_METRICS",
    "LLMConfig",
    "RagasResult",
    "RagasSample",
    "llm_config_from_env",
    "ragas_evaluate",
]

CONTEXT_METRICS = (
    "ragas_id_context_precision",
    "ragas_id_context_recall",
    "ragas_context_precision",
    "ragas_context_recall",
)
ANSWER_METRICS = ("ragas_answer_similarity", "ragas_answer_exact_match")
LLM_METRICS = ("ragas_faithfulness", "ragas_llm_context_recall", "ragas_llm_context_precision")
DEFAULT_LLM_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class RagasSample:
    """What ragas needs about one query.

    :ivar qid: the query id.
    :ivar question: the query text.
    :ivar contexts: the retrieved passages handed to the reader (or the top retrieved ones).
    :ivar context_ids: their document ids.
    :ivar reference_ids: the gold (relevant) document ids.
    :ivar reference_contexts: the gold documents' texts (may be empty: the text-based context
        metrics are then left out for this query).
    :ivar response: the predicted answer, or ``None`` for a retrieval-only pipeline.
    :ivar references: the gold answers (empty without QA data).
    """

    qid: str
    question: str
    contexts: list[str]
    context_ids: list[str]
    reference_ids: list[str]
    reference_contexts: list[str] = field(default_factory=list)
    response: str | None = None
    references: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible chat endpoint for the LLM-judged metrics."""

    api_key: str
    model: str = DEFAULT_LLM_MODEL
    base_url: str | None = None


def llm_config_from_env(environ: Mapping[str, str] | None = None) -> tuple[LLMConfig | None, str]:
    """Read the LLM endpoint from the environment.

    ``OPENAI_API_KEY`` (required), ``OPENAI_BASE_URL`` (optional, e.g. a local vLLM or Ollama
    server) and ``ODQA_RAGAS_MODEL`` (default ``gpt-4o-mini``).

    :returns: ``(config, "")`` when configured, else ``(None, reason)``.
    """
    env = os.environ if environ is None else environ
    key = env.get("OPENAI_API_KEY", "").strip()
    if not key:
        return None, (
            "no LLM endpoint configured: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL, "
            "ODQA_RAGAS_MODEL) to compute LLM-judged ragas metrics"
        )
    base_url = env.get("OPENAI_BASE_URL", "").strip() or None
    model = env.get("ODQA_RAGAS_MODEL", "").strip() or DEFAULT_LLM_MODEL
    return LLMConfig(api_key=key, model=model, base_url=base_url), ""


@dataclass
class RagasResult:
    """ragas scores of a set of queries.

    :ivar means: metric -> mean over the queries that have a value (NaN values left out).
    :ivar counts: metric -> number of queries with a value.
    :ivar per_query: qid -> metric -> value (NaN where ragas gave none).
    :ivar skipped: metric -> why it was not computed.
    :ivar version: the ragas version used.
    """

    means: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes ``None``)."""

        def clean(v: float) -> float | None:
            return None if math.isnan(v) else v

        return {
            "version": self.version,
            "means": {k: clean(v) for k, v in self.means.items()},
            "counts": dict(self.counts),
            "skipped": dict(self.skipped),
            "per_query": {q: {k: clean(v) for k, v in m.items()} for q, m in self.per_query.items()},
        }


def _import_ragas() -> dict[str, Any]:
    """Import the ragas classes used here (slow: done once, on first use)."""
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ragas
        from ragas.dataset_schema import SingleTurnSample
        from ragas.metrics import (
            IDBasedContextPrecision,
            IDBasedContextRecall,
            NonLLMContextPrecisionWithReference,
            NonLLMContextRecall,
        )
        from ragas.metrics.collections import ExactMatch, NonLLMStringSimilarity

    return {
        "version": ragas.__version__,
        "SingleTurnSample": SingleTurnSample,
        "ragas_id_context_precision": IDBasedContextPrecision(),
        "ragas_id_context_recall": IDBasedContextRecall(),
        "ragas_context_precision": NonLLMContextPrecisionWithReference(),
        "ragas_context_recall": NonLLMContextRecall(),
        "ragas_answer_similarity": NonLLMStringSimilarity(),
        "ragas_answer_exact_match": ExactMatch(),
    }


async def _offline_scores(sample: RagasSample, r: dict[str, Any]) -> dict[str, float]:
    make = r["SingleTurnSample"]
    out: dict[str, float] = {}
    if sample.reference_ids:
        ids = make(retrieved_context_ids=sample.context_ids, reference_context_ids=sample.reference_ids)
        for name in ("ragas_id_context_precision", "ragas_id_context_recall"):
            out[name] = float(await r[name].single_turn_ascore(ids))
    if sample.reference_contexts:
        texts = make(retrieved_contexts=sample.contexts, reference_contexts=sample.reference_contexts)
        if sample.contexts:
            out["ragas_context_precision"] = float(
                await r["ragas_context_precision"].single_turn_ascore(texts)
            )
            out["ragas_context_recall"] = float(await r["ragas_context_recall"].single_turn_ascore(texts))
        else:
            out["ragas_context_precision"] = out["ragas_context_recall"] = 0.0
    if sample.references and sample.response is not None:
        for name in ANSWER_METRICS:
            scores = [
                (await r[name].ascore(reference=g, response=sample.response)).value for g in sample.references
            ]
            out[name] = float(max(scores))
    return out


def _llm_metrics(config: LLMConfig) -> dict[str, Any]:
    """The LLM-judged metrics (modern ragas collections) on an OpenAI-compatible endpoint."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from openai import AsyncOpenAI
        from ragas.llms import llm_factory
        from ragas.metrics.collections import ContextPrecisionWithReference, ContextRecall, Faithfulness

    client = AsyncOpenAI(api_key=config.api_key, base_url=config.base_url)
    llm = llm_factory(config.model, client=client)
    return {
        "ragas_faithfulness": Faithfulness(llm=llm),
        "ragas_llm_context_recall": ContextRecall(llm=llm),
        "ragas_llm_context_precision": ContextPrecisionWithReference(llm=llm),
    }


async def _llm_scores(
    sample: RagasSample, metrics: dict[str, Any], sem: asyncio.Semaphore
) -> dict[str, float]:
    out: dict[str, float] = {}
    if not sample.contexts:
        return out
    reference = sample.references[0] if sample.references else None
    async with sem:
        if sample.response:
            res = await metrics["ragas_faithfulness"].ascore(
                user_input=sample.question, response=sample.response, retrieved_contexts=sample.contexts
            )
            out["ragas_faithfulness"] = float(res.value)
        if reference:
            res = await metrics["ragas_llm_context_recall"].ascore(
                user_input=sample.question, retrieved_contexts=sample.contexts, reference=reference
            )
            out["ragas_llm_context_recall"] = float(res.value)
            res = await metrics["ragas_llm_context_precision"].ascore(
                user_input=sample.question, reference=reference, retrieved_contexts=sample.contexts
            )
            out["ragas_llm_context_precision"] = float(res.value)
    return out


def ragas_evaluate(
    samples: Sequence[RagasSample],
    *,
    llm: LLMConfig | None = None,
    llm_skip_reason: str = "",
    concurrency: int = 8,
) -> RagasResult:
    """Score ``samples`` with the ragas metrics (see the module docstring).

    :param samples: one per query.
    :param llm: the endpoint for the LLM-judged metrics; ``None`` skips them with
        ``llm_skip_reason`` (by default the reason from :func:`llm_config_from_env`).
    :param concurrency: concurrent LLM requests.
    :returns: the :class:`RagasResult`.  A metric with no value for any query (e.g. the answer
        metrics of a retrieval-only pipeline, or LLM metrics when the endpoint fails on every
        query) is listed in ``skipped`` with the reason; queries where the endpoint failed have
        no LLM values (``counts`` says how many have).
    """
    try:
        r = _import_ragas()
    except ImportError as e:  # e.g. a broken optional dependency (pyarrow built for another numpy)
        reason = f"ragas is not importable here: {e}"
        return RagasResult(skipped=dict.fromkeys((*CONTEXT_METRICS, *ANSWER_METRICS, *LLM_METRICS), reason))

    llm_errors: list[BaseException] = []

    async def run_all() -> list[dict[str, float]]:
        rows = [await _offline_scores(s, r) for s in samples]
        if llm is not None:
            metrics = _llm_metrics(llm)
            sem = asyncio.Semaphore(concurrency)
            judged = await asyncio.gather(
                *(_llm_scores(s, metrics, sem) for s in samples), return_exceptions=True
            )
            for row, extra in zip(rows, judged, strict=True):
                if isinstance(extra, BaseException):
                    llm_errors.append(extra)
                else:
                    row.update(extra)
        return rows

    rows = asyncio.run(run_all())
    result = RagasResult(version=str(r["version"]))
    names = [*CONTEXT_METRICS, *ANSWER_METRICS, *(LLM_METRICS if llm is not None else ())]
    for sample, row in zip(samples, rows, strict=True):
        result.per_query[sample.qid] = {n: row[n] for n in names if n in row}
    for name in names:
        values = [row[name] for row in rows if name in row and not math.isnan(row[name])]
        if values:
            result.means[name] = sum(values) / len(values)
            result.counts[name] = len(values)
        elif name in ANSWER_METRICS:
            result.skipped[name] = "needs a predicted answer (a reader stage) and gold answers (SQuAD data)"
        elif name in ("ragas_context_precision", "ragas_context_recall"):
            result.skipped[name] = "needs the gold documents' texts"
        elif name in LLM_METRICS and llm_errors:
            error = llm_errors[0]
            result.skipped[name] = f"the LLM endpoint failed on every query: {type(error).__name__}: {error}"
        else:
            result.skipped[name] = "no query had the inputs this metric needs"
    if llm is None:
        reason = llm_skip_reason or llm_config_from_env()[1] or "no LLM endpoint configured"
        for name in LLM_METRICS:
            result.skipped[name] = reason
    return result
