"""Turn pipeline outputs into TREC runs: one ranking per stage that outputs documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from odqa.pipelines.runner import RunResult, document_id

Ranking = dict[str, float]


def ranking_from_ids(ids: Iterable[str], *, top_k: int) -> Ranking:
    """``{id: score}`` for the first ``top_k`` distinct ids, in order. Scores are a strictly
    decreasing rank-based score so trec_eval keeps the pipeline's order exactly."""
    out: list[str] = []
    seen: set[str] = set()
    for key in ids:
        if key in seen:
            continue
        seen.add(key)
        out.append(key)
        if len(out) >= top_k:
            break
    n = len(out)
    return {k: float(n - i) for i, k in enumerate(out)}


def ranking_from_documents(docs: list[Any], *, top_k: int, doc_level: bool) -> Ranking:
    """The first ``top_k`` passages as a ranking; with ``doc_level`` passages collapse to their
    document (:func:`~odqa.pipelines.runner.document_id`), keeping the best-ranked passage (MaxP)."""
    return ranking_from_ids((document_id(d) if doc_level else d.id for d in docs), top_k=top_k)


def runs_from_result(result: RunResult, *, top_k: int, doc_level: bool) -> dict[str, Ranking]:
    """One ranking per stage whose output has ``documents``, in graph order."""
    return {
        name: ranking_from_documents(docs, top_k=top_k, doc_level=doc_level)
        for name, docs in result.documents_by_stage().items()
    }
