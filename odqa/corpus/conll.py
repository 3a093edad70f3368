"""Read CoNLL-style BIO files (CoNLL-2003, WNUT-17) and decode BIO tags into entity spans.

A file has one token per line, the token first and its tag in the last column (CoNLL-2003:
``token POS chunk NER``; WNUT-17: ``token<TAB>tag``); a blank or whitespace-only line ends a
sentence (WNUT-17 train uses both) and a ``-DOCSTART-`` line starts a new document.

Tags are IOB2 (``B-TYPE`` opens an entity, ``I-TYPE`` continues it, ``O`` is outside).
:func:`bio_spans` decodes them with the conventions of ``conlleval`` and of seqeval's default
mode, so that metrics computed on its spans equal seqeval's: an ``I-`` tag that does not continue
an entity of its own type (after ``O``, or after another type) opens a new entity.

Usage::

    sentences = read_conll("/work/shared/data/conll2003/test.txt")
    sentences[1].tokens, sentences[1].tags    # ('SOCCER', '-', 'JAPAN', ...), ('O', 'O', 'B-LOC', ...)
    bio_spans(sentences[1].tags)              # [('LOC', 2, 3), ('PER', 6, 7)]
    label_list(sentences)                     # ['O', 'B-LOC', 'I-LOC', 'B-MISC', ...]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DOCSTART = "-DOCSTART-"
OUTSIDE = "O"
_TAG = re.compile(r"^(?:O|[BI]-\S+)$")


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence: its tokens, their BIO tags and the index of the document it belongs to."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    doc: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    def entities(self) -> list[tuple[str, str]]:
        """``(type, text)`` of every entity, tokens joined by spaces."""
        return [(t, " ".join(self.tokens[s:e])) for t, s, e in bio_spans(self.tags)]


def bio_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Entities of a BIO tag sequence as ``(type, start, end)`` token ranges (end exclusive).

    ``B-X`` always opens an entity; ``I-X`` continues the open entity when it has type ``X``,
    else opens one (conlleval / seqeval default mode). Unknown tags count as ``O``.
    """
    spans: list[tuple[str, int, int]] = []
    kind: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, _, typ = tag.partition("-")
        if prefix == "I" and typ and typ == kind:
            continue
        if kind is not None:
            spans.append((kind, start, i))
            kind = None
        if prefix in ("B", "I") and typ:
            kind, start = typ, i
    if kind is not None:
        spans.append((kind, start, len(tags)))
    return spans


def spans_to_bio(length: int, spans: Iterable[tuple[str, int, int]]) -> list[str]:
    """The IOB2 tags of ``length`` tokens holding ``spans`` (``(type, start, end)``, not overlapping)."""
    tags = [OUTSIDE] * length
    for typ, start, end in spans:
        if not 0 <= start < end <= length:
            raise ValueError(f"span {(typ, start, end)} outside 0..{length}")
        tags[start] = f"B-{typ}"
        for i in range(start + 1, end):
            tags[i] = f"I-{typ}"
    return tags


def read_conll(path: str | Path, *, tag_column: int = -1) -> list[TaggedSentence]:
    """Sentences of a CoNLL-style file.

    :param path: the file (UTF-8).
    :param tag_column: the column holding the BIO tag (default: the last one).
    :raises FileNotFoundError: the file does not exist.
    :raises ValueError: a line has a single column or a tag that is not ``O``/``B-X``/``I-X``;
        the message names the file and line.
    """
    p = Path(path)
    sentences: list[TaggedSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    doc = 0

    def flush() -> None:
        if tokens:
            sentences.append(TaggedSentence(tuple(tokens), tuple(tags), doc))
            tokens.clear()
            tags.clear()

    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                flush()
                continue
            cols = line.split()
            if cols[0] == DOCSTART:
                flush()
                doc += 1 if sentences else 0
                continue
            if len(cols) < 2:
                raise ValueError(f"{p}:{lineno}: expected a token and a tag, got {line.rstrip()!r}")
            tag = cols[tag_column]
            if not _TAG.match(tag):
                raise ValueError(f"{p}:{lineno}: {tag!r} is not a BIO tag (O, B-TYPE or I-TYPE)")
            tokens.append(cols[0])
            tags.append(tag)
    flush()
    return sentences


def entity_types(sentences: Iterable[TaggedSentence]) -> list[str]:
    """The entity types used in ``sentences``, sorted."""
    return sorted({tag[2:] for s in sentences for tag in s.tags if tag != OUTSIDE})


def label_list(sentences: Iterable[TaggedSentence]) -> list[str]:
    """``O`` then ``B-X``, ``I-X`` for every type ``X`` in ``sentences`` (sorted): the model's labels."""
    return [OUTSIDE, *(f"{p}-{t}" for t in entity_types(sentences) for p in ("B", "I"))]


def conll_stats(sentences: Sequence[TaggedSentence]) -> dict[str, int]:
    """Documents, sentences, tokens, entities and entities per type (``entities:TYPE``)."""
    per_type: Counter[str] = Counter(t for s in sentences for t, _, _ in bio_spans(s.tags))
    return {
        "documents": len({s.doc for s in sentences}),
        "sentences": len(sentences),
        "tokens": sum(len(s) for s in sentences),
        "entities": sum(per_type.values()),
        **{f"entities:{t}": n for t, n in sorted(per_type.items())},
    }
