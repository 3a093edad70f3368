"""Reading and writing TREC run and qrels files.

Two in-memory shapes are used throughout :mod:`odqa.eval`:

* :data:`Run` -- ``qid -> docid -> score`` (higher score = better);
* :data:`Qrels` -- ``qid -> docid -> grade`` (graded relevance judgements, integers).

File formats
------------

Run (``trec_results``), one line per retrieved document, whitespace separated::

    qid Q0 docid rank score tag

The ``Q0`` and ``tag`` columns are ignored on reading, and so is ``rank``: like
``trec_eval``, the ranking is *re-derived from the scores* (score descending, ties
broken by docid descending, see :func:`trec_order`).  It is still checked to be an
integer so that a column shift is caught early.

Qrels, either TREC (whitespace separated, ``iter`` ignored)::

    qid 0 docid grade

or BEIR tab-separated values with a header line::

    query-id<TAB>corpus-id<TAB>score
    q1<TAB>doc7<TAB>1

:func:`read_qrels` detects the format from the first non-blank line.

Every malformed line raises :class:`ValueError` whose message starts with
``"<file>:<line>: "`` followed by the reason.  Duplicated ``(qid, docid)`` pairs are
errors in both files, as they are in ``trec_eval``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

__all__ = [
    "BEIR_QRELS_HEADER",
    "Qrels",
    "Run",
    "read_qrels",
    "read_run",
    "trec_order",
    "write_run",
]

Run = dict[str, dict[str, float]]
"""A retrieval run: ``qid -> docid -> score``."""

Qrels = dict[str, dict[str, int]]
"""Relevance judgements: ``qid -> docid -> grade``."""

BEIR_QRELS_HEADER: tuple[str, str, str] = ("query-id", "corpus-id", "score")
"""Header fields of a BEIR ``qrels/*.tsv`` file."""

PathLike = str | os.PathLike[str]


def trec_order(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Return ``(docid, score)`` pairs in ``trec_eval`` ranking order.

    ``trec_eval`` ignores the rank column and sorts each query's results with
    ``qsort`` on ``(score, docno)``, both *descending*: higher scores first and, among
    equal scores, the lexicographically *larger* docid first (``strcmp`` on the bytes;
    for UTF-8 text this equals Python's code-point order used here).

    :param scores: ``docid -> score`` for one query.
    :returns: the pairs, best first.
    :raises ValueError: if a score is NaN (it has no place in a total order).
    """
    items = list(scores.items())
    for docid, score in items:
        if math.isnan(score):
            raise ValueError(f"score of document {docid!r} is NaN")
    items.sort(key=lambda item: (item[1], item[0]), reverse=True)
    return items


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` for the non-blank lines of ``path``, without the line end."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line.rstrip("\r\n")


def read_run(path: PathLike) -> Run:
    """Read a TREC run file (``qid Q0 docid rank score tag``).

    :param path: the run file (UTF-8).
    :returns: ``qid -> docid -> score``; queries appear in file order.
    :raises ValueError: ``"<file>:<line>: <reason>"`` for a line that does not have six
        fields, a non-integer rank, a score that is not a finite-or-infinite float (NaN is
        rejected), or a docid repeated within a query.
    """
    source = Path(path)
    run: Run = {}
    for number, line in _lines(source):
        where = f"{source}:{number}"
        fields = line.split()
        if len(fields) != 6:
            raise ValueError(f"{where}: expected 6 fields 'qid Q0 docid rank score tag', got {len(fields)}")
        qid, _, docid, rank, score_text, _ = fields
        try:
            int(rank)
        except ValueError:
            raise ValueError(f"{where}: rank {rank!r} is not an integer") from None
        try:
            score = float(score_text)
        except ValueError:
            raise ValueError(f"{where}: score {score_text!r} is not a number") from None
        if math.isnan(score):
            raise ValueError(f"{where}: score is NaN")
        docs = run.setdefault(qid, {})
        if docid in docs:
            raise ValueError(f"{where}: duplicate document {docid!r} for query {qid!r}")
        docs[docid] = score
    return run


def read_qrels(path: PathLike) -> Qrels:
    """Read relevance judgements in TREC or BEIR format (auto-detected).

    * TREC: ``qid iter docid grade``, whitespace separated, ``iter`` ignored.
    * BEIR: a first line ``query-id<TAB>corpus-id<TAB>score`` followed by tab-separated
      ``qid, docid, grade`` lines.

    Grades must be integers (``trec_eval`` reads them with ``atol``; here ``"1.5"`` is
    an error rather than silently truncated).  A grade of 0 is a judged non-relevant
    document; negative grades are kept as given and are never relevant.

    :param path: the qrels file (UTF-8).
    :returns: ``qid -> docid -> grade``; queries appear in file order.
    :raises ValueError: ``"<file>:<line>: <reason>"`` for a wrong number of fields, a
        non-integer grade or a repeated ``(qid, docid)`` pair.
    """
    source = Path(path)
    qrels: Qrels = {}
    lines = _lines(source)
    first = next(lines, None)
    if first is None:
        return qrels
    beir = tuple(first[1].split()) == BEIR_QRELS_HEADER
    rows: Iterable[tuple[int, str]] = lines if beir else _chain_first(first, lines)
    for number, line in rows:
        where = f"{source}:{number}"
        if beir:
            fields = line.split("\t")
            if len(fields) != 3:
                raise ValueError(
                    f"{where}: expected 3 tab-separated fields 'query-id corpus-id score', got {len(fields)}"
                )
            qid, docid, grade_text = (field.strip() for field in fields)
            if not qid or not docid:
                raise ValueError(f"{where}: empty query-id or corpus-id")
        else:
            fields = line.split()
            if len(fields) != 4:
                hint = ""
                if len(fields) == 3:
                    hint = " (a BEIR tsv file needs the header line 'query-id<TAB>corpus-id<TAB>score')"
                raise ValueError(
                    f"{where}: expected 4 fields 'qid iter docid grade', got {len(fields)}{hint}"
                )
            qid, _, docid, grade_text = fields
        try:
            grade = int(grade_text)
        except ValueError:
            raise ValueError(f"{where}: grade {grade_text!r} is not an integer") from None
        docs = qrels.setdefault(qid, {})
        if docid in docs:
            raise ValueError(f"{where}: duplicate judgement of document {docid!r} for query {qid!r}")
        docs[docid] = grade
    return qrels


def _chain_first(first: tuple[int, str], rest: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    yield first
    yield from rest


def _check_token(value: str, what: str) -> None:
    if not value or any(char.isspace() for char in value):
        raise ValueError(f"{what} {value!r} is empty or contains whitespace: not writable to a TREC file")


def write_run(run: Mapping[str, Mapping[str, float]], path: PathLike, tag: str = "odqa") -> None:
    """Write ``run`` as a TREC run file, atomically.

    Queries are written in sorted qid order; within a query, documents are written in
    ``trec_eval`` order (:func:`trec_order`) with ranks ``1..n``, so that the rank column
    agrees with the order ``trec_eval`` derives from the scores.  Scores are written with
    :func:`repr`, which round-trips a float exactly.

    The file is written to a temporary file in the same directory and moved into place
    with :func:`os.replace`, so readers never see a half-written run.

    :param run: ``qid -> docid -> score``.  Queries with no documents write no lines
        (TREC files cannot represent them).
    :param path: destination file; missing parent directories are created.
    :param tag: run tag written in the last column (no whitespace).
    :raises ValueError: if the tag, a qid or a docid is empty or contains whitespace, or
        a score is NaN.  The destination is left untouched.
    """
    _check_token(tag, "run tag")
    lines: list[str] = []
    for qid in sorted(run):
        _check_token(qid, "query id")
        for rank, (docid, score) in enumerate(trec_order(run[qid]), start=1):
            _check_token(docid, "document id")
            lines.append(f"{qid} Q0 {docid} {rank} {float(score)!r} {tag}\n")
    destination = Path(path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp creates 0600; a run file is meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, destination)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
