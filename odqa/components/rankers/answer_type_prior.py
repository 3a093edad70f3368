"""Re-score a reader's answers by whether their type is the one the question asks for."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import ExtractedAnswer
from haystack.utils import ComponentDevice

from odqa.components.analyzers.answer_types import expected_answer_type, numeric_type
from odqa.components.analyzers.backends import NerBackend, as_component_device, make_backend, torch_device
from odqa.components.analyzers.entities import Entity
from odqa.models import SPACY_DEFAULT

MATCH, MISMATCH, UNTYPED = "match", "mismatch", "untyped"


def span_label(entities: list[Entity], start: int, end: int) -> str | None:
    """The type whose entities cover most of ``[start, end)``, if they cover at least half of it
    ("Serbian American inventor": two NORP entities, 15 of 25 characters -> NORP)."""
    covered: dict[str, int] = {}
    for e in entities:
        overlap = min(end, e.end) - max(start, e.start)
        if overlap > 0:
            covered[e.label] = covered.get(e.label, 0) + overlap
    if not covered:
        return None
    label = max(covered, key=lambda k: covered[k])
    return label if covered[label] * 2 >= max(1, end - start) else None


def _window(text: str, start: int, end: int, width: int) -> tuple[int, int]:
    """``[lo, hi)`` around ``[start, end)``, widened by ``width`` characters and cut at spaces."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    return lo, hi


@component
class AnswerTypePrior:
    """Multiply each answer's score by a prior on its type, then re-sort: prefer a DATE for "when",
    a person for "who", a number for "how many".

    The type of an answer span is the NER label of the entity covering most of it, found by running
    NER on a window of its passage around it (context matters: "Washington" is a person or a
    place); a number-like span without an entity is typed by rule
    (:func:`~odqa.components.analyzers.answer_types.numeric_type`). Then the score is multiplied by

    * ``1`` when the type is one of ``expected_types`` (``match``),
    * ``1 - weight`` when it is another type (``mismatch``),
    * ``1 - weight / 2`` when the span has no type (``untyped``).

    Each answer keeps its reader score and the decision in ``meta`` (``reader_score``,
    ``answer_type``, ``type_match``, ``prior``). No expected type (``what``...), ``weight=0`` or no
    answers: the answers pass unchanged. Answers without text (no-answer) are not re-scored.

    :param model: spaCy package/pipeline or token-classification model (in a graph: ``${ner}``).
        OntoNotes types (spaCy) know dates and numbers; a CoNLL model relies on the numeric rules.
    :param backend: ``auto``, ``spacy`` or ``transformers``.
    :param weight: strength of the prior in ``[0, 1]``; ``0`` switches it off.
    :param window: characters of context on each side of a span given to NER.
    :param device: where a transformers model runs (``None``: a GPU when present).

    Usage::

        prior = AnswerTypePrior(weight=0.5)
        prior.warm_up()
        prior.run(answers=reader_out["answers"], expected_types=["DATE", "TIME"])["answers"]
    """

    def __init__(
        self,
        *,
        model: str = SPACY_DEFAULT,
        backend: str = "auto",
        weight: float = 0.5,
        window: int = 150,
        device: ComponentDevice | str | None = None,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        self.model = model
        self.backend = backend
        self.weight = weight
        self.window = window
        self.device = as_component_device(device)
        self._ner: NerBackend | None = None

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            model=self.model,
            backend=self.backend,
            weight=self.weight,
            window=self.window,
            device=self.device.to_dict() if self.device else None,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerTypePrior:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Load the NER model (once; not at all when the prior is off)."""
        if self.weight > 0:
            self._load()

    def _load(self) -> NerBackend:
        if self._ner is None:
            ner = make_backend(self.model, self.backend, device=torch_device(self.device))
            ner.load()
            self._ner = ner
        return self._ner

    def span_types(self, answers: list[ExtractedAnswer]) -> list[str | None]:
        """The type of every answer's span (``None``: no type, or no text)."""
        texts: list[str] = []
        spans: list[tuple[int, int]] = []
        for a in answers:
            doc, off = a.document, a.document_offset
            if (
                doc is not None
                and doc.content
                and off is not None
                and 0 <= off.start < off.end <= len(doc.content)
            ):
                lo, hi = _window(doc.content, off.start, off.end, self.window)
                texts.append(doc.content[lo:hi])
                spans.append((off.start - lo, off.end - lo))
            else:
                texts.append(a.data or "")
                spans.append((0, len(a.data or "")))
        entities = self._load().extract(texts) if texts else []
        out: list[str | None] = []
        for a, ents, (s, e) in zip(answers, entities, spans, strict=True):
            label = span_label(ents, s, e) if a.data else None
            out.append(label or (numeric_type(a.data) if a.data else None))
        return out

    def factor(self, label: str | None, expected: list[str]) -> tuple[str, float]:
        """``(decision, multiplier)`` for an answer of type ``label``."""
        if label is None:
            return UNTYPED, 1.0 - self.weight / 2
        return (MATCH, 1.0) if label in expected else (MISMATCH, 1.0 - self.weight)

    @component.output_types(answers=list[ExtractedAnswer])
    def run(
        self,
        answers: list[ExtractedAnswer],
        expected_types: list[str] | None = None,
        query: str | None = None,
    ) -> dict[str, list[ExtractedAnswer]]:
        """Re-score and re-sort ``answers``.

        :param expected_types: from the analyzer; when ``None``, derived from ``query``.
        :param query: the question (used only without ``expected_types``).
        """
        expected = list(expected_types) if expected_types is not None else []
        if expected_types is None and query:
            expected = list(expected_answer_type(query).types)
        if self.weight <= 0 or not expected or not answers:
            return {"answers": list(answers)}
        todo = [i for i, a in enumerate(answers) if a.data]
        labels = dict(zip(todo, self.span_types([answers[i] for i in todo]), strict=True))
        rescored: list[ExtractedAnswer] = []
        for i, a in enumerate(answers):
            if i not in labels:
                rescored.append(a)
                continue
            decision, mult = self.factor(labels[i], expected)
            meta = {
                **a.meta,
                "reader_score": a.score,
                "answer_type": labels[i],
                "type_match": decision,
                "prior": mult,
            }
            rescored.append(replace(a, score=a.score * mult, meta=meta))
        rescored.sort(key=lambda a: a.score, reverse=True)
        return {"answers": rescored}
