"""Turn pipeline outputs into TREC runs: one ranking per stage that outputs documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odqa.utils.fs import atomic_write_text

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


def write_trec(run: dict[str, Ranking], path: str | Path, *, tag: str) -> None:
    """Write ``qid Q0 docid rank score tag`` lines, best first (atomic)."""
    lines = []
    for qid, ranking in run.items():
        ordered = sorted(ranking.items(), key=lambda kv: (-kv[1], kv[0]))
        lines += [f"{qid} Q0 {doc} {rank} {score:.6f} {tag}" for rank, (doc, score) in enumerate(ordered, 1)]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
