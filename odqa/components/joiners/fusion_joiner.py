"""Fuse ranked lists from several retrievers: reciprocal rank fusion or weighted score fusion."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document

MODES = ("rrf", "weighted")
NORMALIZATIONS = ("minmax", "zscore", "none")


@component
class FusionJoiner:
    """Merge the result lists of named sources into one ranking.

    Each source is a named input socket (so weights are tied to a retriever, not to the order in
    which lists arrive -- Haystack's ``DocumentJoiner`` weighs by arrival order and fixes RRF's k).

    * ``rrf``: :math:`s(d) = \\sum_i w_i / (k + r_i(d))`, with :math:`r_i(d)` the 1-based rank of
      ``d`` in source *i* (absent: no contribution). Cormack et al. (2009) use :math:`k = 60`.
    * ``weighted``: :math:`s(d) = \\sum_i w_i \\cdot \\hat{s}_i(d)`, where :math:`\\hat{s}_i` is the
      source's score normalised per query (``minmax`` to [0, 1], ``zscore``, or ``none``); absent
      documents contribute 0.

    Ties are broken by document id (descending, as trec_eval orders ties).

    :param sources: Names of the input sockets, e.g. ``["bm25", "dense"]``.
    :param mode: ``rrf`` or ``weighted``.
    :param rrf_k: The RRF constant k.
    :param weights: Weight per source name (default 1.0 each).
    :param normalization: Score normalisation for ``weighted``.
    :param top_k: Length of the fused list (``None`` keeps all).

    Usage::

        joiner = FusionJoiner(sources=["bm25", "dense"], mode="rrf", rrf_k=60, top_k=20)
        joiner.run(bm25=bm25_docs, dense=dense_docs)["documents"]
    """

    def __init__(
        self,
        *,
        sources: list[str] | None = None,
        mode: str = "rrf",
        rrf_k: float = 60.0,
        weights: dict[str, float] | None = None,
        normalization: str = "minmax",
        top_k: int | None = None,
    ) -> None:
        self.sources = list(sources or ["bm25", "dense"])
        if len(set(self.sources)) != len(self.sources) or not self.sources:
            raise ValueError(f"sources must be distinct, non-empty names, got {self.sources}")
        if mode not in MODES:
            raise ValueError(f"unknown fusion mode {mode!r}; choose one of {', '.join(MODES)}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"unknown normalization {normalization!r}; choose one of {', '.join(NORMALIZATIONS)}"
            )
        if rrf_k < 0:
            raise ValueError(f"rrf_k must be >= 0, got {rrf_k}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
        unknown = set(weights or {}) - set(self.sources)
        if unknown:
            raise ValueError(f"weights name unknown sources {sorted(unknown)}; sources are {self.sources}")
        self.mode = mode
        self.rrf_k = rrf_k
        self.weights = dict(weights or {})
        self.normalization = normalization
        self.top_k = top_k
        component.set_input_types(self, **{name: list[Document] for name in self.sources})

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            sources=self.sources,
            mode=self.mode,
            rrf_k=self.rrf_k,
            weights=self.weights,
            normalization=self.normalization,
            top_k=self.top_k,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionJoiner:
        return default_from_dict(cls, data)

    def _normalize(self, scores: np.ndarray) -> np.ndarray:
        if self.normalization == "none" or len(scores) == 0:
            return scores
        if self.normalization == "minmax":
            lo, hi = scores.min(), scores.max()
            return np.ones_like(scores) if hi == lo else (scores - lo) / (hi - lo)
        sd = scores.std()
        return np.zeros_like(scores) if sd == 0 else (scores - scores.mean()) / sd

    def fuse(self, lists: dict[str, list[Document]], top_k: int | None = None) -> list[Document]:
        """Fuse ``lists`` (source name -> ranked documents); the pure function behind :meth:`run`."""
        fused: dict[str, float] = {}
        first: dict[str, Document] = {}
        for name in self.sources:
            docs = lists.get(name) or []
            w = float(self.weights.get(name, 1.0))
            if self.mode == "rrf":
                contrib = w / (self.rrf_k + np.arange(1, len(docs) + 1, dtype=np.float64))
            else:
                raw = np.array([d.score if d.score is not None else 0.0 for d in docs], dtype=np.float64)
                contrib = w * self._normalize(raw)
            seen: set[str] = set()
            for doc, c in zip(docs, contrib, strict=True):
                if doc.id in seen:  # a source listing a document twice counts it once (best rank)
                    continue
                seen.add(doc.id)
                fused[doc.id] = fused.get(doc.id, 0.0) + float(c)
                first.setdefault(doc.id, doc)
        order = sorted(fused, key=lambda i: (fused[i], i), reverse=True)
        k = self.top_k if top_k is None else top_k
        if k is not None:
            order = order[:k]
        return [replace(first[i], score=fused[i], embedding=None) for i in order]

    @component.output_types(documents=list[Document])
    def run(self, top_k: int | None = None, **kwargs: list[Document]) -> dict[str, list[Document]]:
        """Fuse the lists given as keyword arguments named after the sources."""
        return {"documents": self.fuse(kwargs, top_k=top_k)}
