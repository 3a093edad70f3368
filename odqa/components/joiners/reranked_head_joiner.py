"""Put a re-ranked head back on top of the full candidate list it was cut from."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document


@component
class RerankedHeadJoiner:
    """The re-ranker's ``head``, then the ``candidates`` it did not see (in their order).

    A cross-encoder on CPU affords to re-score the first 20-30 candidates, not 100; without this
    joiner the ranked list would end at the re-ranking depth, and every metric that looks deeper
    (R@100, MAP) would compare a 20-item list with a 100-item one. Re-ranking only reorders the
    head, so the deeper metrics measure the same candidates before and after.

    With ``candidate_weight`` :math:`w = 0` the head keeps the re-ranker's order and scores. With
    :math:`w > 0` the head is ordered by reciprocal-rank fusion of the two orders,

    .. math:: s(d) = \\frac{1}{k + r_{ranker}(d)} + \\frac{w}{k + r_{candidates}(d)}

    (ranks from 1, :math:`k` = ``rrf_k``; ties keep the re-ranker's order; the re-ranker's score moves
    to ``meta["ranker_score"]``), so a cross-encoder that is better on average but wrong on some
    queries cannot bury what both retrievers put first. On SciFact's dev half (404 queries) with the
    in-domain re-ranker, :math:`w = 1` gave nDCG@10 .7287 vs .7057 for the re-ranker's order alone
    (README, "Retrieval made your own").

    Scores stay decreasing down the list (trec_eval orders a run by score): the :math:`i`-th tail
    document (0-based) gets :math:`\\min_{d \\in head} s(d) - (i + 1)`; its own score moves to
    ``meta["candidate_score"]``.

    :param top_k: Length of the joined list (``None``: head plus the whole tail).
    :param candidate_weight: :math:`w`, the weight of the candidates' own order in the head (>= 0).
    :param rrf_k: :math:`k` of the fusion (> 0).

    Usage::

        joiner = RerankedHeadJoiner(top_k=100, candidate_weight=1.0)
        joiner.run(head=ranker_out["documents"], candidates=fused)["documents"]
    """

    def __init__(self, *, top_k: int | None = None, candidate_weight: float = 0.0, rrf_k: int = 60) -> None:
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        if candidate_weight < 0:
            raise ValueError(f"candidate_weight must be >= 0, got {candidate_weight}")
        if rrf_k <= 0:
            raise ValueError(f"rrf_k must be > 0, got {rrf_k}")
        self.top_k = top_k
        self.candidate_weight = candidate_weight
        self.rrf_k = rrf_k

    @component.output_types(documents=list[Document])
    def run(self, head: list[Document], candidates: list[Document]) -> dict[str, list[Document]]:
        """Join ``head`` and the ``candidates`` not in it.

        :param head: The re-ranked documents, best first, with scores.
        :param candidates: The list the head was taken from (a document in both is kept once, in
            the head).
        :returns: ``documents``: at most ``top_k`` documents, scores decreasing.
        """
        if self.candidate_weight > 0:
            head = self._fused_head(head, candidates)
        seen = {d.id for d in head}
        floor = min((d.score for d in head if d.score is not None), default=0.0)
        unseen = [d for d in candidates if d.id not in seen]
        tail = [
            replace(d, score=floor - (i + 1), meta={**d.meta, "candidate_score": d.score})
            for i, d in enumerate(unseen)
        ]
        return {"documents": (list(head) + tail)[: self.top_k]}

    def _fused_head(self, head: list[Document], candidates: list[Document]) -> list[Document]:
        k, w = self.rrf_k, self.candidate_weight
        rank = {d.id: i + 1 for i, d in enumerate(candidates)}
        missing = len(candidates) + 1  # a head document the candidates lack ranks after all of them
        scored = [(1 / (k + i + 1) + w / (k + rank.get(d.id, missing)), i, d) for i, d in enumerate(head)]
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [replace(d, score=s, meta={**d.meta, "ranker_score": d.score}) for s, _, d in scored]

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, top_k=self.top_k, candidate_weight=self.candidate_weight, rrf_k=self.rrf_k
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RerankedHeadJoiner:
        return default_from_dict(cls, data)
