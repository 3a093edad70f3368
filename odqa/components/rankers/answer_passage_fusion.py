"""Re-score a reader's answers with the score of the passage they come from (BERTserini-style)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Literal

from haystack import Document, component, default_from_dict, default_to_dict
from haystack.dataclasses import ExtractedAnswer

Signal = Literal["rank", "score"]
SIGNALS: tuple[Signal, ...] = ("rank", "score")
_EPS = 1e-6


def passage_signal(signal: str, passage: Document, read: list[Document]) -> float:
    """The passage term :math:`g(d)` of :class:`AnswerPassageFusion` for ``passage`` among ``read``.

    * ``rank``: :math:`-\\ln r`, where :math:`r` is the 1-based position of the passage in ``read``
      (the passages the reader read, best first); a passage not among them gets
      :math:`r = |read| + 1`.
    * ``score``: :math:`\\ln \\frac{p}{1 - p}` of the passage's own score :math:`p` clipped to
      :math:`[10^{-6}, 1 - 10^{-6}]` (a re-ranker with ``scale_score`` gives a probability; the logit
      puts it back on the cross-encoder's scale); a passage without a score gets 0.
    """
    if signal == "rank":
        ids = [d.id for d in read]
        r = ids.index(passage.id) + 1 if passage.id in ids else len(ids) + 1
        return -math.log(r)
    if signal == "score":
        if passage.score is None:
            return 0.0
        p = min(max(float(passage.score), _EPS), 1 - _EPS)
        return math.log(p / (1 - p))
    raise ValueError(f"signal must be one of {', '.join(SIGNALS)}, got {signal!r}")


@component
class AnswerPassageFusion:
    """Add the passage's score to each answer's span score, then re-sort and keep ``top_k``.

    An extractive reader's span score :math:`s_i + e_j` (start and end logits) is learnt with a
    softmax inside one window, so it is not on one scale across passages: a confident-looking span
    in the third passage can beat the right one in the first. Following BERTserini (Yang et al.,
    2019: linear interpolation of the reader's and the retriever's scores), the answer's score becomes

    .. math:: S(a) = (s_i + e_j) + w \\cdot g(d_a)

    where :math:`d_a` is the answer's passage and :math:`g` is :func:`passage_signal` (``rank``: minus
    the log of the passage's position among the read passages; ``score``: the logit of its re-ranker
    probability). The reader's probability :math:`p = \\sigma(c (s_i + e_j))` (calibration factor
    :math:`c`) is inverted to get :math:`s_i + e_j`, and the output score is :math:`\\sigma(c\\,S(a))`,
    so ``weight=0`` changes no score (and no order of answers sorted by score). Each answer keeps
    ``reader_score`` and ``passage_term`` in ``meta``. Answers without text (no-answer) keep their
    score, which the fused scores do not compare with: use it with a reader that has
    ``no_answer=False``, as odqa's graphs do.

    :param signal: ``rank`` or ``score`` (see :func:`passage_signal`).
    :param weight: :math:`w \\ge 0`.
    :param calibration_factor: the reader's :math:`c` (the reader's default is 0.1).
    :param top_k: answers kept after re-sorting (``None``: all).

    Usage::

        fusion = AnswerPassageFusion(signal="rank", weight=2.0)
        fusion.run(answers=reader_out["answers"], documents=read_passages)["answers"]
    """

    def __init__(
        self,
        *,
        signal: Signal = "rank",
        weight: float = 1.0,
        calibration_factor: float = 0.1,
        top_k: int | None = None,
    ) -> None:
        if signal not in SIGNALS:
            raise ValueError(f"signal must be one of {', '.join(SIGNALS)}, got {signal!r}")
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        if calibration_factor <= 0:
            raise ValueError(f"calibration_factor must be > 0, got {calibration_factor}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.signal = signal
        self.weight = weight
        self.calibration_factor = calibration_factor
        self.top_k = top_k

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            signal=self.signal,
            weight=self.weight,
            calibration_factor=self.calibration_factor,
            top_k=self.top_k,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerPassageFusion:
        return default_from_dict(cls, data)

    def span_logit(self, probability: float) -> float:
        """:math:`s_i + e_j` from the reader's probability :math:`\\sigma(c (s_i + e_j))`."""
        p = min(max(probability, 1e-12), 1 - 1e-12)
        return math.log(p / (1 - p)) / self.calibration_factor

    @component.output_types(answers=list[ExtractedAnswer])
    def run(self, answers: list[ExtractedAnswer], documents: list[Document] | None = None) -> dict[str, Any]:
        """Re-score and re-sort ``answers``.

        :param answers: the reader's answers (their ``document`` is the passage they come from).
        :param documents: the passages the reader read, best first; required for ``signal="rank"``
            (the answers alone cannot give ranks: the reader's best answer would always rank first).
        :returns: ``answers``: re-sorted by the fused score, at most ``top_k``.
        :raises ValueError: ``signal="rank"`` without ``documents``.
        """
        if documents is None:
            if self.signal == "rank" and self.weight > 0:
                raise ValueError("AnswerPassageFusion(signal='rank') needs the passages the reader read")
            documents = []
        out: list[ExtractedAnswer] = []
        for a in answers:
            if a.data is None or a.document is None:
                out.append(a)
                continue
            term = passage_signal(self.signal, a.document, documents)
            fused = self.span_logit(float(a.score)) + self.weight * term
            score = 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, self.calibration_factor * fused))))
            meta = {**a.meta, "reader_score": a.score, "passage_term": term}
            out.append(replace(a, score=score, meta=meta))
        out.sort(key=lambda a: a.score, reverse=True)
        return {"answers": out[: self.top_k] if self.top_k is not None else out}
