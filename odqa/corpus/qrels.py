"""Reader for relevance judgments in BEIR TSV or TREC qrels format (auto-detected)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from odqa.corpus._io import open_binary
from odqa.corpus._report import ProblemCallback, ProblemReporter
from odqa.corpus.types import Qrels

QrelsFormat = Literal["auto", "beir", "trec"]

_HEADER_FIRST = {"query-id", "query_id", "qid", "query"}
_HEADER_LAST = {"score", "relevance", "grade", "label", "rel"}
_INT = re.compile(r"[+-]?\d+(?:\.0*)?")


def _parse_grade(value: str) -> int | None:
    """Parse an integer grade; ``"1.0"`` is accepted as 1, ``"0.5"`` is not."""
    if not _INT.fullmatch(value):
        return None
    return int(float(value))


def _is_header(fields: list[str]) -> bool:
    """True for a BEIR header line such as ``query-id<TAB>corpus-id<TAB>score``."""
    return len(fields) == 3 and (fields[0].lower() in _HEADER_FIRST or fields[2].lower() in _HEADER_LAST)


def _fields(line: str, fmt: str) -> list[str]:
    if fmt == "beir" and "\t" in line:
        return [f.strip() for f in line.split("\t")]
    return line.split()


def _detect(line: str) -> Literal["beir", "trec"] | None:
    """Guess the format from one line: 3 fields -> BEIR, 4 fields -> TREC."""
    n = len(line.split("\t")) if "\t" in line else len(line.split())
    if n == 3:
        return "beir"
    if n == 4 and len(line.split()) == 4:
        return "trec"
    return None


def _parse_judgment(fields: list[str], fmt: str) -> tuple[str, str, int] | str:
    """Return ``(query_id, doc_id, grade)`` from the fields of one line, or why that fails."""
    expected = 3 if fmt == "beir" else 4
    if len(fields) != expected or not all(fields):
        return f"expected {expected} fields for {fmt} qrels, got {len(fields)}: {fields!r}"
    if fmt == "beir":
        qid, doc_id, grade_text = fields
    else:
        qid, _iteration, doc_id, grade_text = fields
    grade = _parse_grade(grade_text)
    if grade is None:
        return f"grade {grade_text!r} is not an integer"
    return qid, doc_id, grade


def read_qrels(
    path: str | Path,
    *,
    fmt: QrelsFormat = "auto",
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> Qrels:
    """Read relevance judgments.

    Two formats are understood:

    * BEIR TSV: ``query-id<TAB>corpus-id<TAB>score``, with or without that header line;
    * TREC qrels: ``qid iteration docid grade``, whitespace separated.

    With ``fmt="auto"`` the format is taken from the first data line (3 fields: BEIR, 4: TREC).
    Malformed lines, non-integer grades and repeated (query, document) pairs are reported and
    skipped (the first judgment of a pair is kept). Grade 0 judgments are kept: they mark judged
    non-relevant documents.

    :param path: The qrels file.
    :param fmt: ``"auto"``, ``"beir"`` or ``"trec"``.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar (in lines).
    :returns: ``{query_id: {doc_id: grade}}``, in file order.
    """
    path = Path(path)
    reporter = ProblemReporter(path, strict=strict, on_problem=on_problem)
    qrels: Qrels = {}
    detected: str | None = None if fmt == "auto" else fmt
    first_data_line = True
    with open_binary(path) as f:
        lines = tqdm(f, desc=path.name, unit=" lines", disable=not progress)
        for lineno, raw in enumerate(lines, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                reporter.report(lineno, f"invalid UTF-8: {e.reason} at byte {e.start}")
                continue
            if not line.strip():
                continue
            if detected is None:
                detected = _detect(line)
                if detected is None:
                    reporter.report(lineno, f"cannot tell BEIR from TREC qrels in line {line.strip()!r}")
                    continue
            fields = _fields(line, detected)
            if first_data_line:
                first_data_line = False
                if detected == "beir" and _is_header(fields):
                    continue
            parsed = _parse_judgment(fields, detected)
            if isinstance(parsed, str):
                reporter.report(lineno, parsed)
                continue
            qid, doc_id, grade = parsed
            judged = qrels.setdefault(qid, {})
            if doc_id in judged:
                reporter.report(
                    lineno,
                    f"duplicate judgment for query {qid!r}, document {doc_id!r} (keeping the first)",
                )
                continue
            judged[doc_id] = grade
    if not qrels:
        reporter.report(None, "no judgments")
    return qrels
