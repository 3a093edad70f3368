"""Splitting documents into overlapping passages that keep exact character offsets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal

from odqa.corpus.sentences import sentence_spans
from odqa.corpus.types import Passage, SourceDocument

SplitUnit = Literal["word", "sentence", "none"]

_WORD = re.compile(r"\S+")


def _check_args(unit: str, length: int, overlap: int) -> None:
    if unit not in ("word", "sentence", "none"):
        raise ValueError(f'unit must be "word", "sentence" or "none", got {unit!r}')
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    if not 0 <= overlap < length:
        raise ValueError(f"overlap must be at least 0 and smaller than length ({length}), got {overlap}")


def unit_spans(text: str, unit: SplitUnit) -> list[tuple[int, int]]:
    """Return the ``(start, end)`` spans of the words, the sentences or the whole stripped text."""
    if unit == "word":
        return [m.span() for m in _WORD.finditer(text)]
    if unit == "sentence":
        return sentence_spans(text)
    stripped = text.strip()
    if not stripped:
        return []
    start = len(text) - len(text.lstrip())
    return [(start, start + len(stripped))]


def windows(n_units: int, length: int, overlap: int) -> list[tuple[int, int]]:
    """Return ``[first, last)`` unit ranges of windows of ``length`` units overlapping by ``overlap``.

    The last window ends at the last unit; no window lies entirely inside the previous one.
    """
    ranges: list[tuple[int, int]] = []
    step = length - overlap
    first = 0
    while first < n_units:
        last = min(first + length, n_units)
        ranges.append((first, last))
        if last == n_units:
            break
        first += step
    return ranges


def split_document(
    doc: SourceDocument, *, unit: SplitUnit = "word", length: int = 200, overlap: int = 20
) -> list[Passage]:
    """Split a document into passages of ``length`` units, consecutive passages sharing ``overlap``.

    Passages are slices of the original text (``doc.text[p.start:p.end] == p.text``), from the
    first character of their first unit to the last character of their last unit, so the
    original whitespace and punctuation inside a passage are kept. An empty or whitespace-only
    document gives no passage.

    :param doc: The document.
    :param unit: ``"word"`` (whitespace-separated tokens), ``"sentence"`` (see
        :func:`~odqa.corpus.sentences.sentence_spans`) or ``"none"`` (one passage: the whole
        text without surrounding whitespace; ``length`` and ``overlap`` are then unused).
    :param length: Units per passage (at least 1).
    :param overlap: Units shared by consecutive passages (``0 <= overlap < length``).
    :raises ValueError: On an unknown unit or inconsistent ``length``/``overlap``.
    """
    _check_args(unit, length, overlap)
    spans = unit_spans(doc.text, unit)  # a single span (or none) for unit "none"
    passages: list[Passage] = []
    for passage_no, (first, last) in enumerate(windows(len(spans), length, overlap)):
        start, end = spans[first][0], spans[last - 1][1]
        passages.append(
            Passage(
                id=f"{doc.doc_id}#{passage_no}",
                doc_id=doc.doc_id,
                passage_no=passage_no,
                text=doc.text[start:end],
                title=doc.title,
                start=start,
                end=end,
                meta=dict(doc.meta),
            )
        )
    return passages


def split_documents(
    docs: Iterable[SourceDocument], *, unit: SplitUnit = "word", length: int = 200, overlap: int = 20
) -> Iterator[Passage]:
    """Split every document of ``docs`` lazily (see :func:`split_document`).

    The arguments are checked at call time, before any document is read.

    :raises ValueError: On an unknown unit or inconsistent ``length``/``overlap``.
    """
    _check_args(unit, length, overlap)
    return (
        passage for doc in docs for passage in split_document(doc, unit=unit, length=length, overlap=overlap)
    )
