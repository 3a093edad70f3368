"""Put a re-ranked head back on top of the full candidate list it was cut from."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document


@component
class RerankedHeadJoiner:
    """The re-ranker's ``head`` (in its order), then the ``candidates`` it did not see (in theirs).

    A cross-encoder on CPU affords to re-score the first 20-30 candidates, not 100; without this
    joiner the ranked list would end at the re-ranking depth, and every metric that looks deeper
    (R@100, MAP) would compare a 20-item list with a 100-item one. Re-ranking only reorders the
    head, so the deeper metrics measure the same candidates before and after.

    Scores stay decreasing down the list (trec_eval orders a run by score): the head keeps the
    re-ranker's scores, and the :math:`i`-th tail document (0-based) gets
    :math:`\\min_{d \\in head} s(d) - (i + 1)`; its own score moves to ``meta["candidate_score"]``.

    :param top_k: Length of the joined list (``None``: head plus the whole tail).

    Usage::

        joiner = RerankedHeadJoiner(top_k=100)
        joiner.run(head=ranker_out["documents"], candidates=fused)["documents"]
    """

    def __init__(self, *, top_k: int | None = None) -> None:
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        self.top_k = top_k

    @component.output_types(documents=list[Document])
    def run(self, head: list[Document], candidates: list[Document]) -> dict[str, list[Document]]:
        """Join ``head`` and the ``candidates`` not in it.

        :param head: The re-ranked documents, best first, with scores.
        :param candidates: The list the head was taken from (a document in both is kept once, in
            the head).
        :returns: ``documents``: at most ``top_k`` documents, scores decreasing.
        """
        seen = {d.id for d in head}
        floor = min((d.score for d in head if d.score is not None), default=0.0)
        unseen = [d for d in candidates if d.id not in seen]
        tail = [
            replace(d, score=floor - (i + 1), meta={**d.meta, "candidate_score": d.score})
            for i, d in enumerate(unseen)
        ]
        return {"documents": (list(head) + tail)[: self.top_k]}

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, top_k=self.top_k)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RerankedHeadJoiner:
        return default_from_dict(cls, data)
