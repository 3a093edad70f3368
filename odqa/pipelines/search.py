"""Turn pipeline outputs into TREC runs: one ranking per stage that outputs documents."""

from __future__ import annotations

from typing import Any

Ranking = dict[str, float]


def ranking_from_documents(docs: list[Any], *, top_k: int, doc_level: bool) -> Ranking:
    """``{id: score}`` for the first ``top_k`` entries. With ``doc_level`` passages collapse to their
    document (``meta['doc_id']``), keeping the best-ranked passage (MaxP). Scores are replaced by
    a strictly decreasing rank-based score so trec_eval keeps the pipeline's order exactly."""
    out: Ranking = {}
    for d in docs:
        key = str(d.meta.get("doc_id", d.id)) if doc_level else d.id
        if key in out:
            continue
        out[key] = 0.0
        if len(out) >= top_k:
            break
    n = len(out)
    return {k: float(n - i) for i, k in enumerate(out)}


def runs_from_result(result: Any, *, top_k: int, doc_level: bool) -> dict[str, Ranking]:
    """One ranking per component whose output has ``documents`` (in pipeline order)."""
    runs: dict[str, Ranking] = {}
    for name, sockets in result.outputs.items():
        docs = sockets.get("documents") if isinstance(sockets, dict) else None
        if docs is not None:
            runs[name] = ranking_from_documents(docs, top_k=top_k, doc_level=doc_level)
    return runs
