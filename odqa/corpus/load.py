"""One entry point for every supported collection format, with format detection."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from odqa.corpus._io import open_binary
from odqa.corpus._report import ProblemCallback
from odqa.corpus.beir import read_beir_corpus
from odqa.corpus.files import read_directory
from odqa.corpus.jsonl import read_jsonl
from odqa.corpus.squad import iter_squad
from odqa.corpus.types import SourceDocument

CollectionFormat = Literal["auto", "beir", "squad", "jsonl", "dir"]

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_SQUAD_DATA = re.compile(rb'"data"\s*:\s*\[')
_PEEK_BYTES = 1 << 20
_PEEK_LINES = 20


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.name.lower().endswith(suffixes)


def _first_object_keys(path: Path) -> set[str] | None:
    """Keys of the first parseable JSON object among the first lines of a JSON-lines file."""
    with open_binary(path) as f:
        for _, raw in zip(range(_PEEK_LINES), f, strict=False):
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(obj, dict):
                return set(obj)
    return None


def _looks_like_squad(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(_PEEK_BYTES)
    return head.lstrip().startswith(b"{") and _SQUAD_DATA.search(head) is not None


def detect_format(path: str | Path) -> Literal["beir", "squad", "jsonl", "dir"]:
    """Tell which reader a collection path needs.

    * a directory with ``corpus.jsonl`` (or ``corpus.jsonl.gz``): ``"beir"``;
    * any other directory: ``"dir"`` (text, markdown and HTML files);
    * a ``.json`` file with a top-level ``"data"`` list: ``"squad"``;
    * a ``.jsonl``/``.ndjson`` file: ``"beir"`` when its records have ``_id``, else ``"jsonl"``.

    :raises FileNotFoundError: When the path does not exist.
    :raises ValueError: When the format cannot be told; the message names the path.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"collection path does not exist: {p}")
    if p.is_dir():
        has_corpus = (p / "corpus.jsonl").is_file() or (p / "corpus.jsonl.gz").is_file()
        return "beir" if has_corpus else "dir"
    if _has_suffix(p, _JSONL_SUFFIXES):
        keys = _first_object_keys(p)
        return "beir" if keys is not None and "_id" in keys else "jsonl"
    if _has_suffix(p, (".json",)) and _looks_like_squad(p):
        return "squad"
    raise ValueError(
        f"cannot detect the collection format of {p}: expected a BEIR directory (with corpus.jsonl), "
        'a directory of .txt/.md/.html files, a SQuAD .json file (top-level "data") or a .jsonl '
        "file; pass fmt= explicitly"
    )


def read_collection(
    path: str | Path,
    fmt: CollectionFormat = "auto",
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
    id_field: str = "id",
    text_field: str = "text",
    title_field: str = "title",
) -> Iterator[SourceDocument]:
    """Stream the documents of a collection in any supported format.

    :param path: A BEIR directory or corpus file, a SQuAD JSON file, a JSON-lines file or a
        directory of text files.
    :param fmt: ``"beir"``, ``"squad"`` (paragraphs as documents, questions ignored),
        ``"jsonl"``, ``"dir"``, or ``"auto"`` to use :func:`detect_format`.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar.
    :param id_field: Id field of a ``jsonl`` collection.
    :param text_field: Text field of a ``jsonl`` collection.
    :param title_field: Title field of a ``jsonl`` collection.
    :raises FileNotFoundError: At call time, when the path does not exist.
    :raises ValueError: At call time, when the format is unknown or cannot be detected.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"collection path does not exist: {p}")
    kind = detect_format(p) if fmt == "auto" else fmt
    if kind == "beir":
        return read_beir_corpus(p, strict=strict, on_problem=on_problem, progress=progress)
    if kind == "squad":
        return (doc for doc, _ in iter_squad(p, strict=strict, on_problem=on_problem, progress=progress))
    if kind == "jsonl":
        return read_jsonl(
            p,
            id_field=id_field,
            text_field=text_field,
            title_field=title_field,
            strict=strict,
            on_problem=on_problem,
            progress=progress,
        )
    if kind == "dir":
        return read_directory(p, strict=strict, on_problem=on_problem, progress=progress)
    raise ValueError(
        f'unknown collection format {fmt!r} for {p}: use "auto", "beir", "squad", "jsonl" or "dir"'
    )
