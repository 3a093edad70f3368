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
    """A Haystack tracer that records the wall time of each component run (seconds), per thread, so
    that runs in several threads (the REST API's worker pool) keep their timings apart. A tracer
    installed before it (OpenTelemetry, Datadog...) still receives every span."""

    def __init__(self, inner: Tracer | None = None) -> None:
        self.inner = inner
        self._local = threading.local()

    @property
    def timings(self) -> dict[str, float]:
        """This thread's recordings since :meth:`start`."""
        if not hasattr(self._local, "timings"):
            self._local.timings = {}
        return self._local.timings

    def start(self) -> dict[str, float]:
        """Start recording a run in this thread; returns the dict the timings go to."""
        self._local.timings = {}
        return self._local.timings

    @contextlib.contextmanager
    def trace(
        self, operation_name: str, tags: dict[str, Any] | None = None, parent_span: Span | None = None
    ) -> Iterator[Span]:
        t0 = time.perf_counter()
        outer = contextlib.ExitStack()
        with outer:
            if self.inner is not None:
                span: Span = outer.enter_context(self.inner.trace(operation_name, tags, parent_span))
            else:
                span = _TimingSpan()
            previous = getattr(self._local, "span", None)
            self._local.span = span
            try:
                yield span
            finally:
                self._local.span = previous
                if operation_name == "haystack.component.run" and tags:
                    name = str(tags.get("haystack.component.name"))
                    self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0

    def current_span(self) -> Span | None:
        if self.inner is not None:
            return self.inner.current_span()
        return getattr(self._local, "span", None)


_timer_lock = threading.Lock()


def stage_timer() -> StageTimer:
    """The process-wide :class:`StageTimer`, installed as Haystack's tracer on first use (wrapping
    whatever tracer was installed before)."""
    with _timer_lock:
        current = tracing.tracer.actual_tracer
        if isinstance(current, StageTimer):
            return current
        inner = None if not tracing.is_tracing_enabled() else current
        timer = StageTimer(inner)
        tracing.enable_tracing(timer)
        return timer


def document_id(passage: Any) -> str:
    """The id of the document a passage came from (``meta['doc_id']``; the passage id when absent)."""
    return str(passage.meta.get("doc_id", passage.id))


def passage_dict(passage: Any) -> dict[str, Any]:
    """A passage as a JSON-ready dict (``passage_id``, ``doc_id``, ``score``, ``title``, ``passage``)."""
    return {
        "passage_id": passage.id,
        "doc_id": document_id(passage),
        "score": None if passage.score is None else round(float(passage.score), 4),
        "title": passage.meta.get("title"),
        "passage": passage.content,
    }


def graph_order(pipeline: Pipeline) -> list[str]:
    """Component names in the order data flows through the graph (ties: the order they were added)."""
    import networkx as nx

    position = {name: i for i, name in enumerate(pipeline.graph.nodes)}
    return list(nx.lexicographical_topological_sort(pipeline.graph, key=lambda n: position[n]))


@dataclass
class RunResult:
    """One question's run: every component's outputs (``outputs[name][socket]``) and wall time.

    The result knows its graph: :attr:`stages` lists the components in graph order,
    :attr:`final_documents` and :attr:`answers` are what the graph's last document and answer
    producers returned (the fused, or re-ranked, passages; the reader's, or answer-type prior's,
    answers).
    """

    outputs: dict[str, dict[str, Any]]
    timings: dict[str, float] = field(default_factory=dict)
    total_s: float = 0.0
    #: component names in graph order
    order: list[str] = field(default_factory=list)

    @property
    def stages(self) -> list[tuple[str, dict[str, Any]]]:
        """``(name, outputs)`` of every component that ran, in graph order."""
        names = [n for n in self.order if n in self.outputs]
        names += [n for n in self.outputs if n not in names]
        return [(n, self.outputs[n]) for n in names if isinstance(self.outputs[n], dict)]

    def _last(self, socket: str) -> str | None:
        found = [name for name, sockets in self.stages if sockets.get(socket) is not None]
        return found[-1] if found else None

    @property
    def answers_from(self) -> str | None:
        """The component whose ``answers`` are the graph's final ones (``None``: a retrieval graph)."""
        return self._last("answers")

    @property
    def documents_from(self) -> str | None:
        """The last component in graph order that output ``documents``."""
        return self._last("documents")

    @property
    def answers(self) -> list[Any]:
        """The graph's final answers (empty for retrieval-only graphs)."""
        name = self.answers_from
        return [] if name is None else list(self.outputs[name]["answers"])

    @property
    def final_documents(self) -> list[Any]:
        """The graph's final ranked passages (the last stage's ``documents``)."""
        name = self.documents_from
        return [] if name is None else list(self.outputs[name]["documents"])

    def answer_dicts(self) -> list[dict[str, Any]]:
        """The final answers as JSON-ready dicts: ``answer``, ``score``, ``doc_id``, ``passage_id``,
        ``title``, ``span`` (character offsets in ``passage``) and ``passage``."""
        out = []
        for a in self.answers:
            if a.data is None:
                continue
            doc, offset = a.document, a.document_offset
            out.append(
                {
                    "answer": a.data,
                    "score": round(float(a.score), 4),
                    "doc_id": document_id(doc) if doc else None,
                    "passage_id": doc.id if doc else None,
                    "title": doc.meta.get("title") if doc else None,
                    "span": [offset.start, offset.end] if offset else [None, None],
                    "passage": doc.content if doc else None,
                }
            )
        return out

    def passage_dicts(self) -> list[dict[str, Any]]:
        """The final passages as JSON-ready dicts: ``passage_id``, ``doc_id``, ``score``, ``title``,
        ``passage``."""
        return [passage_dict(d) for d in self.final_documents]

    def documents_by_stage(self) -> dict[str, list[Any]]:
        """``{stage: passages}`` for every stage that output ``documents``, in graph order."""
        return {name: list(s["documents"]) for name, s in self.stages if s.get("documents") is not None}


class QueryRunner:
    """Warm a query pipeline once, then run questions through it.

    Usage (most callers get one from :func:`odqa.pipelines.env.open_runner`)::

        runner = QueryRunner(load_pipeline("qa", index_dir=..., registry=...))
        result = runner.run("Who founded Warsaw?")
        result.answers, result.final_documents, result.timings, result.stages
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
        self.order = graph_order(pipeline)
        self._warm = False

    @property
    def warm(self) -> bool:
        return self._warm

    def warm_up(self) -> None:
        if not self._warm:
            self.pipeline.warm_up()
            self._warm = True

    @property
    def component_names(self) -> list[str]:
        return list(self.order)

    def run(self, question: str, params: dict[str, dict[str, Any]] | None = None) -> RunResult:
        """Answer one question. ``params`` adds run-time inputs per component (e.g. ``top_k``)."""
        self.warm_up()
        data: dict[str, dict[str, Any]] = {
            c: dict.fromkeys(names, question) for c, names in self._question_inputs.items()
        }
        for comp, extra in (params or {}).items():
            data.setdefault(comp, {}).update(extra)
        timings = stage_timer().start()
        t0 = time.perf_counter()
        outputs = self.pipeline.run(data, include_outputs_from=set(self.order))
        return RunResult(
            outputs=outputs, timings=dict(timings), total_s=time.perf_counter() - t0, order=self.order
        )
