"""Readers for the BEIR layout: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odqa.corpus._io import describe_bad_field, get_id, get_optional_str, get_text, iter_json_lines
from odqa.corpus._report import ProblemCallback, ProblemReporter
from odqa.corpus.qrels import read_qrels
from odqa.corpus.types import Qrels, Query, SourceDocument

logger = logging.getLogger("odqa.corpus")

_CORPUS_NAMES = ("corpus.jsonl", "corpus.jsonl.gz")
_QUERIES_NAMES = ("queries.jsonl", "queries.jsonl.gz")


def _resolve(dir_or_file: str | Path, names: tuple[str, ...]) -> Path:
    path = Path(dir_or_file)
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path}: no {' or '.join(names)} in this directory")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    return path


def _split_meta(obj: dict[str, Any], known: set[str]) -> dict[str, Any] | None:
    """Merge the ``metadata`` object and any unknown top-level fields into one meta dict."""
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return None
    extra = {k: v for k, v in obj.items() if k not in known and k != "metadata"}
    return {**metadata, **extra}


def read_beir_corpus(
    dir_or_file: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> Iterator[SourceDocument]:
    """Stream the documents of a BEIR ``corpus.jsonl``.

    Each line is ``{"_id": ..., "title": ..., "text": ..., "metadata": {...}}``; ``metadata``
    (and any other extra field) becomes :attr:`SourceDocument.meta`. Lines with invalid JSON,
    a missing id, missing or empty text, or an id seen before are reported and skipped.

    :param dir_or_file: A BEIR dataset directory, or the corpus file itself (``.gz`` allowed).
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar.
    :raises FileNotFoundError: At call time, when there is no corpus file.
    """
    path = _resolve(dir_or_file, _CORPUS_NAMES)
    reporter = ProblemReporter(path, strict=strict, on_problem=on_problem)
    return _iter_corpus(path, reporter, progress)


def _iter_corpus(path: Path, reporter: ProblemReporter, progress: bool) -> Iterator[SourceDocument]:
    seen: set[str] = set()
    for lineno, obj in iter_json_lines(path, reporter, progress=progress):
        doc_id = get_id(obj, "_id")
        text = get_text(obj, "text")
        title = get_optional_str(obj, "title")
        meta = _split_meta(obj, {"_id", "title", "text"})
        if doc_id is None:
            reporter.report(lineno, describe_bad_field(obj, "_id"))
        elif text is None:
            reporter.report(lineno, f"document {doc_id!r}: {describe_bad_field(obj, 'text')}")
        elif title is None:
            reporter.report(lineno, f"document {doc_id!r}: {describe_bad_field(obj, 'title')}")
        elif meta is None:
            reporter.report(lineno, f"document {doc_id!r}: {describe_bad_field(obj, 'metadata')}")
        elif doc_id in seen:
            reporter.report(lineno, f"duplicate document id {doc_id!r} (keeping the first)")
        else:
            seen.add(doc_id)
            yield SourceDocument(doc_id=doc_id, text=text, title=title, meta=meta)
    logger.info("%s: %d documents, %d problems", path, len(seen), reporter.count)


def read_beir_queries(
    path: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> list[Query]:
    """Read a BEIR ``queries.jsonl`` (``_id``, ``text``, optional ``metadata``).

    :param path: A BEIR dataset directory, or the queries file itself.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar.
    :returns: The queries in file order, without duplicates (the first one is kept).
    """
    file = _resolve(path, _QUERIES_NAMES)
    reporter = ProblemReporter(file, strict=strict, on_problem=on_problem)
    queries: list[Query] = []
    seen: set[str] = set()
    for lineno, obj in iter_json_lines(file, reporter, progress=progress):
        qid = get_id(obj, "_id")
        text = get_text(obj, "text")
        meta = _split_meta(obj, {"_id", "text"})
        if qid is None:
            reporter.report(lineno, describe_bad_field(obj, "_id"))
        elif text is None:
            reporter.report(lineno, f"query {qid!r}: {describe_bad_field(obj, 'text')}")
        elif meta is None:
            reporter.report(lineno, f"query {qid!r}: {describe_bad_field(obj, 'metadata')}")
        elif qid in seen:
            reporter.report(lineno, f"duplicate query id {qid!r} (keeping the first)")
        else:
            seen.add(qid)
            queries.append(Query(qid=qid, text=text, meta=meta))
    return queries


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR dataset: queries and qrels in memory, the corpus streamed on demand.

    :param root: The dataset directory.
    :param split: The qrels split that was loaded.
    :param queries: All queries of ``queries.jsonl``.
    :param qrels: The judgments of ``qrels/<split>.tsv``.
    """

    root: Path
    split: str
    queries: list[Query]
    qrels: Qrels
    strict: bool = False
    on_problem: ProblemCallback | None = field(default=None, repr=False)
    progress: bool = True

    def corpus(self) -> Iterator[SourceDocument]:
        """Return a fresh iterator over the corpus (each call reads the file again)."""
        return read_beir_corpus(
            self.root, strict=self.strict, on_problem=self.on_problem, progress=self.progress
        )

    @property
    def judged_queries(self) -> list[Query]:
        """The queries that have at least one judgment in :attr:`qrels`."""
        return [q for q in self.queries if self.qrels.get(q.qid)]


def load_beir(
    root: str | Path,
    split: str = "test",
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> BeirDataset:
    """Load a BEIR dataset directory: queries and ``qrels/<split>.tsv`` now, the corpus lazily.

    Query ids of the qrels that are not in ``queries.jsonl`` are reported as one problem.

    :param root: The dataset directory (with ``corpus.jsonl``, ``queries.jsonl``, ``qrels/``).
    :param split: Name of the qrels file, without ``.tsv``.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show progress bars.
    :raises FileNotFoundError: When a file is missing (the message lists the available splits).
    """
    root = Path(root)
    _resolve(root, _CORPUS_NAMES)
    qrels_file = root / "qrels" / f"{split}.tsv"
    if not qrels_file.is_file():
        available = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        raise FileNotFoundError(f"{qrels_file}: no such qrels split (available: {', '.join(available)})")
    queries = read_beir_queries(root, strict=strict, on_problem=on_problem, progress=progress)
    qrels = read_qrels(qrels_file, strict=strict, on_problem=on_problem, progress=progress)
    known = {q.qid for q in queries}
    unknown = sorted(qid for qid in qrels if qid not in known)
    if unknown:
        reporter = ProblemReporter(qrels_file, strict=strict, on_problem=on_problem)
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        reporter.report(None, f"{len(unknown)} judged query ids are not in queries.jsonl: {shown}")
    return BeirDataset(root, split, queries, qrels, strict, on_problem, progress)
