"""Reader for plain JSON-lines collections with configurable field names."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from odqa.corpus._io import describe_bad_field, get_id, get_optional_str, get_text, iter_json_lines
from odqa.corpus._report import ProblemCallback, ProblemReporter
from odqa.corpus.types import SourceDocument

logger = logging.getLogger("odqa.corpus")


def read_jsonl(
    path: str | Path,
    *,
    id_field: str = "id",
    text_field: str = "text",
    title_field: str = "title",
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> Iterator[SourceDocument]:
    """Stream documents from a JSON-lines file, one JSON object per line.

    All fields other than the id, text and title fields go to :attr:`SourceDocument.meta`.
    A line without an id (or with a null one) gets the id ``f"{file_stem}-{line_number}"``.
    A missing or empty text, an id that is neither a string nor an integer, a title that is not
    a string and a repeated id are reported and the line is skipped.

    :param path: The file (``.gz`` allowed).
    :param id_field: Name of the id field.
    :param text_field: Name of the text field.
    :param title_field: Name of the (optional) title field.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar.
    :raises FileNotFoundError: At call time, when the file does not exist.
    """
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    reporter = ProblemReporter(file, strict=strict, on_problem=on_problem)
    return _iter_jsonl(file, (id_field, text_field, title_field), reporter, progress)


def _file_stem(path: Path) -> str:
    name = path.name.removesuffix(".gz")
    return name.rsplit(".", 1)[0] if "." in name else name


def _iter_jsonl(
    path: Path, fields: tuple[str, str, str], reporter: ProblemReporter, progress: bool
) -> Iterator[SourceDocument]:
    id_field, text_field, title_field = fields
    stem = _file_stem(path)
    seen: set[str] = set()
    for lineno, obj in iter_json_lines(path, reporter, progress=progress):
        doc_id = f"{stem}-{lineno}" if obj.get(id_field) is None else get_id(obj, id_field)
        text = get_text(obj, text_field)
        title = get_optional_str(obj, title_field)
        if doc_id is None:
            reporter.report(lineno, describe_bad_field(obj, id_field))
        elif text is None:
            reporter.report(lineno, f"document {doc_id!r}: {describe_bad_field(obj, text_field)}")
        elif title is None:
            reporter.report(lineno, f"document {doc_id!r}: {describe_bad_field(obj, title_field)}")
        elif doc_id in seen:
            reporter.report(lineno, f"duplicate document id {doc_id!r} (keeping the first)")
        else:
            seen.add(doc_id)
            meta = {k: v for k, v in obj.items() if k not in fields}
            yield SourceDocument(doc_id=doc_id, text=text, title=title, meta=meta)
    logger.info("%s: %d documents, %d problems", path, len(seen), reporter.count)
