"""Plain data types shared by the corpus readers and the splitter.

Nothing here depends on the rest of :mod:`odqa` or on Haystack; converting these records into
Haystack ``Document`` objects is the job of the code that uses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeAlias

Qrels: TypeAlias = dict[str, dict[str, int]]
"""Relevance judgments: query id -> document id -> grade (0 = judged non-relevant)."""


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One document of a collection, exactly as read from its source.

    :param doc_id: Identifier, unique within the collection.
    :param text: Full text; passages refer to it by character offsets.
    :param title: Title, or ``""`` when the source has none.
    :param meta: Any further fields of the source record.
    """

    doc_id: str
    text: str
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Passage:
    """A contiguous span of a :class:`SourceDocument`.

    ``source.text[start:end] == text`` always holds.

    :param id: ``f"{doc_id}#{passage_no}"``.
    :param doc_id: Id of the source document.
    :param passage_no: Position of the passage in its document, from 0.
    :param text: The passage text (a slice of the source text, never re-joined tokens).
    :param title: Title of the source document.
    :param start: Character offset of ``text`` in the source text.
    :param end: Character offset just past ``text`` in the source text.
    :param meta: A copy of the source document's meta.
    """

    id: str
    doc_id: str
    passage_no: int
    text: str
    title: str
    start: int
    end: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Query:
    """A retrieval query.

    :param qid: Query id, as used in the qrels.
    :param text: Query text.
    :param meta: Any further fields of the source record.
    """

    qid: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QAExample:
    """One extractive QA question (SQuAD style) with its gold paragraph.

    :param qid: Question id.
    :param question: Question text.
    :param context: The gold paragraph's text.
    :param answers: Answer texts (several annotators may give the same one).
    :param answer_starts: Character offset of each answer in ``context``.
    :param doc_id: Id of the gold paragraph's :class:`SourceDocument`.
    :param title: Title of the article the paragraph belongs to.
    """

    qid: str
    question: str
    context: str
    answers: list[str]
    answer_starts: list[int]
    doc_id: str
    title: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A malformed or suspicious record found while reading a source.

    :param path: The file the record came from.
    :param line: 1-based line number, or ``None`` when lines do not apply.
    :param reason: What is wrong, in words.
    """

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


class IngestError(Exception):
    """Raised by a reader in strict mode at the first :class:`Problem`.

    :param problem: The problem that stopped the reader.
    """

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
