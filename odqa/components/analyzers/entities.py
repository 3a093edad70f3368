"""Named entities as odqa passes them around, and the label vocabularies of the NER backends.

odqa's entity types are OntoNotes' (spaCy's): ``PERSON``, ``ORG``, ``GPE``, ``LOC``, ``DATE``,
``CARDINAL``... Labels of models trained on other schemes are mapped into them by
:func:`canonical_label` (CoNLL-2003 ``PER`` -> ``PERSON``; WNUT-17 ``corporation`` -> ``ORG``...),
so expected answer types and passage entities mean the same thing whatever the backend.

:data:`SPACY_TO_CONLL` goes the other way, to score spaCy on CoNLL-2003 (see
``benchmarks/ner_conll.py`` for the justification and its sensitivity).

Usage::

    Entity("the Huguenots'", "NORP", 0, 14).key       # 'huguenots'
    keys_match("tesla", "nikola tesla")                 # True: a whole-word part of it
    canonical_label("B-PER")                          # 'PERSON'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

#: Labels of other schemes -> odqa's (OntoNotes) types; unknown labels are upper-cased as they are.
LABEL_MAP: dict[str, str] = {
    # CoNLL-2003
    "PER": "PERSON",
    "MISC": "MISC",
    # WNUT-17
    "PERSON": "PERSON",
    "LOCATION": "LOC",
    "GROUP": "ORG",
    "CORPORATION": "ORG",
    "PRODUCT": "PRODUCT",
    "CREATIVE-WORK": "WORK_OF_ART",
}

#: spaCy / OntoNotes types -> CoNLL-2003 types; types CoNLL does not annotate (dates, numbers) are
#: absent, i.e. mapped to ``O``.
SPACY_TO_CONLL: dict[str, str] = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
}

#: Types of numbers, amounts and times (not names: never used as filters).
NUMERIC_TYPES = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"})

_LEADING = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s?$")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")


def canonical_label(label: str) -> str:
    """odqa's type for a backend label, with any ``B-``/``I-`` prefix removed."""
    if label[:2] in ("B-", "I-"):
        label = label[2:]
    upper = label.upper()
    return LABEL_MAP.get(upper, upper)


def phrase_of(text: str) -> str:
    """``text`` without a leading article or a trailing possessive: the words worth searching for."""
    phrase = _SPACES.sub(" ", text).strip()
    phrase = _POSSESSIVE.sub("", _LEADING.sub("", phrase))
    return phrase.strip()


def entity_key(text: str) -> str:
    """The normalised form entities are matched by: lower case, no article, possessive or edge
    punctuation, single spaces. ``"the U.S.'s"`` -> ``"u.s"``."""
    return _EDGE_PUNCT.sub("", phrase_of(text).lower())


def keys_match(a: str, b: str) -> bool:
    """Whether one entity key is the other or a whole-word part of it: ``"tesla"`` matches
    ``"nikola tesla"`` (a later mention, or a model that tags only the surname), ``"warsaw"``
    matches ``"warsaw uprising"``; ``"war"`` does not match ``"warsaw"``."""
    if not a or not b:
        return False
    return a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} "


@dataclass(frozen=True)
class Entity:
    """A named entity found in a text: ``text == source[start:end]``.

    :ivar text: the entity as written.
    :ivar label: odqa's type (see :func:`canonical_label`).
    :ivar start: character offset of its first character.
    :ivar end: character offset after its last character.
    :ivar score: the model's confidence when it gives one (transformers), else ``None``.
    """

    text: str
    label: str
    start: int
    end: int
    score: float | None = None

    @property
    def phrase(self) -> str:
        """The text without a leading article or trailing possessive (what a retriever should boost)."""
        return phrase_of(self.text)

    @property
    def key(self) -> str:
        """The normalised text entities are matched by (:func:`entity_key`; ``""`` for punctuation)."""
        return entity_key(self.text)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
