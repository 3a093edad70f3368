"""Reporting of malformed records: log, callback, and (in strict mode) raise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from odqa.corpus.types import IngestError, Problem

logger = logging.getLogger("odqa.corpus")

ProblemCallback = Callable[[Problem], None]


class ProblemReporter:
    """Turns a problem found by a reader into a warning, a callback and, when strict, an error.

    :param path: Default file the problems refer to.
    :param strict: Raise :class:`IngestError` at the first problem instead of going on.
    :param on_problem: Called with every problem (before raising, in strict mode).
    """

    def __init__(self, path: str | Path, *, strict: bool = False, on_problem: ProblemCallback | None = None):
        self.path = str(path)
        self.strict = strict
        self.on_problem = on_problem
        self.count = 0

    def report(self, line: int | None, reason: str, *, path: str | Path | None = None) -> None:
        """Report one problem.

        :param line: 1-based line number, or ``None``.
        :param reason: What is wrong.
        :param path: The file, when it is not the reporter's default one.
        :raises IngestError: In strict mode.
        """
        problem = Problem(self.path if path is None else str(path), line, reason)
        self.count += 1
        if self.on_problem is not None:
            self.on_problem(problem)
        if self.strict:
            raise IngestError(problem)
        logger.warning("%s", problem)
