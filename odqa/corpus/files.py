"""Reader for a directory tree of ``.txt``, ``.md`` and ``.html`` files."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from odqa.corpus._report import ProblemCallback, ProblemReporter
from odqa.corpus.html_text import html_to_text
from odqa.corpus.types import SourceDocument

logger = logging.getLogger("odqa.corpus")

FORMATS = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
"""File extensions read by :func:`read_directory`, and the format name stored in meta."""

_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def list_files(root: Path) -> list[Path]:
    """Return the supported files under ``root``, recursively, sorted by relative path.

    Files and directories whose name starts with a dot are left out.
    """
    return _scan(root)[0]


def _scan(root: Path) -> tuple[list[Path], int]:
    """Return the sorted supported files under ``root`` and the number of other (visible) files."""
    supported: list[Path] = []
    others = 0
    for p in root.rglob("*"):
        if any(part.startswith(".") for part in p.relative_to(root).parts) or not p.is_file():
            continue
        if p.suffix.lower() in FORMATS:
            supported.append(p)
        else:
            others += 1
    return sorted(supported, key=lambda p: p.relative_to(root).as_posix()), others


def markdown_title(text: str) -> str | None:
    """Return the text of the first ATX heading (``# Title``) of a markdown text, if any."""
    match = _ATX_HEADING.search(text)
    return match.group(1).strip() if match else None


def read_directory(
    root: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> Iterator[SourceDocument]:
    """Stream the ``.txt``, ``.md`` and ``.html``/``.htm`` files under a directory as documents.

    Files are visited recursively in sorted order of their relative path, which is also the
    document id (with ``/`` separators). The title is the first markdown heading, the HTML
    ``<title>``, or else the file stem. HTML is converted to text (:func:`html_to_text`);
    text and markdown are kept as they are. Meta holds ``path`` (the relative path) and
    ``format`` (``text``, ``markdown`` or ``html``). Unreadable, non-UTF-8 and empty files are
    reported and skipped; files with other extensions are ignored (their number is logged).

    :param root: The directory.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar (in files).
    :raises NotADirectoryError: At call time, when ``root`` is not a directory.
    """
    base = Path(root)
    if not base.is_dir():
        raise NotADirectoryError(f"{base}: not a directory")
    reporter = ProblemReporter(base, strict=strict, on_problem=on_problem)
    return _iter_files(base, reporter, progress)


def _iter_files(root: Path, reporter: ProblemReporter, progress: bool) -> Iterator[SourceDocument]:
    files, others = _scan(root)
    if others:
        logger.info("%s: ignoring %d files without a %s extension", root, others, "/".join(FORMATS))
    n_docs = 0
    for path in tqdm(files, desc=root.name, unit="file", disable=not progress):
        doc = _read_file(root, path, reporter)
        if doc is not None:
            n_docs += 1
            yield doc
    logger.info("%s: %d documents from %d files, %d problems", root, n_docs, len(files), reporter.count)


def _read_file(root: Path, path: Path, reporter: ProblemReporter) -> SourceDocument | None:
    try:
        raw = path.read_bytes()
    except OSError as e:
        reporter.report(None, f"cannot read file: {e.strerror or e}", path=path)
        return None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        reporter.report(line, f"not UTF-8 text: {e.reason} at byte {e.start}", path=path)
        return None
    fmt = FORMATS[path.suffix.lower()]
    if fmt == "html":
        text, title = html_to_text(content)
    else:
        text, title = content, (markdown_title(content) if fmt == "markdown" else None) or ""
    if not text.strip():
        reporter.report(None, "empty document", path=path)
        return None
    rel = path.relative_to(root).as_posix()
    return SourceDocument(doc_id=rel, text=text, title=title or path.stem, meta={"path": rel, "format": fmt})
