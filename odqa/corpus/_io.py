"""Low-level helpers: reading JSON-lines files and checking record fields."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from tqdm import tqdm

from odqa.corpus._report import ProblemReporter


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for binary reading, transparently decompressing ``.gz`` files."""
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def iter_json_lines(
    path: Path, reporter: ProblemReporter, *, progress: bool = True, desc: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for every JSON object line of a JSON-lines file.

    Blank lines are ignored. Undecodable lines, invalid JSON and lines that are not JSON
    objects are reported through ``reporter`` and skipped.

    :param path: The file (``.gz`` allowed).
    :param reporter: Where problems go.
    :param progress: Show a tqdm progress bar (in bytes read).
    :param desc: Progress-bar label; the file name by default.
    """
    total = None if path.suffix == ".gz" else path.stat().st_size
    with (
        open_binary(path) as f,
        tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=desc or path.name,
            disable=not progress,
        ) as bar,
    ):
        for lineno, raw in enumerate(f, 1):
            bar.update(len(raw))
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                reporter.report(lineno, f"invalid UTF-8: {e.reason} at byte {e.start}")
                continue
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                reporter.report(lineno, f"invalid JSON: {e.msg} (column {e.colno})")
                continue
            if not isinstance(obj, dict):
                reporter.report(lineno, f"expected a JSON object, got {type(obj).__name__}")
                continue
            yield lineno, obj


def get_id(obj: dict[str, Any], name: str) -> str | None:
    """Return field ``name`` as an id string (strings and integers accepted), else ``None``."""
    value = obj.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def describe_bad_field(obj: dict[str, Any], name: str) -> str:
    """Explain why field ``name`` of ``obj`` is unusable (missing, empty or of the wrong type)."""
    if name not in obj:
        return f'missing field "{name}"'
    value = obj[name]
    if isinstance(value, str) and not value.strip():
        return f'empty field "{name}"'
    return f'field "{name}" has the wrong type ({type(value).__name__})'


def get_text(obj: dict[str, Any], name: str) -> str | None:
    """Return field ``name`` if it is a string with some non-whitespace content, else ``None``."""
    value = obj.get(name)
    if isinstance(value, str) and value.strip():
        return value
    return None


def get_optional_str(obj: dict[str, Any], name: str) -> str | None:
    """Return field ``name`` as a string: ``""`` when missing or null, ``None`` when not a string."""
    value = obj.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return None
