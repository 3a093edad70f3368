"""Run a loaded query graph for one question: feed the question to every component that takes it,
collect every stage's output and every component's wall time."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from haystack import Pipeline, tracing
from haystack.tracing import Span, Tracer

#: component input names that receive the question text
QUESTION_INPUTS = ("query", "text")


class _TimingSpan(Span):
    def __init__(self) -> None:
        self.tags: dict[str, Any] = {}

    def set_tag(self, key: str, value: Any) -> None:
        self.tags[key] = value


class StageTimer(Tracer):
    """A Haystack tracer that records the wall time of each component run (seconds)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._local = threading.local()

    @contextlib.contextmanager
    def trace(
        self, operation_name: str, tags: dict[str, Any] | None = None, parent_span: Span | None = None
    ) -> Iterator[Span]:
        span = _TimingSpan()
        t0 = time.perf_counter()
        self._local.span = span
        try:
            yield span
        finally:
            if operation_name == "haystack.component.run" and tags:
                name = str(tags.get("haystack.component.name"))
                self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def current_span(self) -> Span | None:
        return getattr(self._local, "span", None)


@dataclass
class RunResult:
    """Outputs of every component (``outputs[name][socket]``) and their timings in seconds."""

    outputs: dict[str, dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)
    total_s: float = 0.0
    #: the component whose ``answers`` are the graph's final ones (``reader``, or ``answer_prior``
    #: when a re-scoring step follows the reader); ``None`` for retrieval-only graphs
    answers_from: str | None = None

    @property
    def answers(self) -> list[Any]:
        """The graph's final answers (empty for retrieval-only graphs)."""
        if self.answers_from is None:
            return []
        return list(self.outputs.get(self.answers_from, {}).get("answers", []))


class QueryRunner:
    """Warm a query pipeline once, then run questions through it.

    Usage::

        runner = QueryRunner(load_pipeline("qa", index_dir=..., registry=...))
        result = runner.run("Who founded Warsaw?")
        result.answers, result.timings  # final answers; result.outputs[name][socket] for every stage
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._question_inputs = {
            comp: [name for name in sockets if name in QUESTION_INPUTS]
            for comp, sockets in pipeline.inputs().items()
        }
        self._question_inputs = {c: n for c, n in self._question_inputs.items() if n}
        if not self._question_inputs:
            raise ValueError("pipeline has no unconnected 'query' or 'text' input to feed a question to")
        #: the last answer producer: a component whose ``answers`` output feeds nothing else
        final = [c for c, sockets in pipeline.outputs().items() if "answers" in sockets]
        self.answers_from: str | None = final[-1] if final else None
        self._warm = False

    def warm_up(self) -> None:
        if not self._warm:
            self.pipeline.warm_up()
            self._warm = True

    @property
    def component_names(self) -> list[str]:
        return list(self.pipeline.to_dict()["components"])

    def run(self, question: str, params: dict[str, dict[str, Any]] | None = None) -> RunResult:
        """Answer one question. ``params`` adds run-time inputs per component (e.g. ``top_k``)."""
        self.warm_up()
        data: dict[str, dict[str, Any]] = {
            c: dict.fromkeys(names, question) for c, names in self._question_inputs.items()
        }
        for comp, extra in (params or {}).items():
            data.setdefault(comp, {}).update(extra)
        timer = StageTimer()
        previous = tracing.tracer.actual_tracer
        tracing.enable_tracing(timer)
        t0 = time.perf_counter()
        try:
            outputs = self.pipeline.run(data, include_outputs_from=set(self.component_names))
        finally:
            tracing.tracer.actual_tracer = previous
        return RunResult(
            outputs=outputs,
            timings=timer.timings,
            total_s=time.perf_counter() - t0,
            answers_from=self.answers_from,
        )
