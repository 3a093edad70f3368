"""What the REST API runs: the served graphs, opened once through the pipeline environment, and a
bounded pool of workers for the CPU-bound runs.

A request either gets a worker slot at once (``workers`` running plus ``queue`` waiting) or is
refused with :class:`Busy` (the API answers 503 with ``Retry-After``): a burst never builds an
unbounded backlog. Run-time parameters a request may set are allow-listed
(:data:`odqa.serve.schemas.ALLOWED_PARAMS`); everything else in a graph is fixed at start-up.

Usage::

    engine = Engine(env, pipelines=["qa"], workers=1, queue=4)
    engine.start()                      # loads the first graph's models and stores
    result = await engine.run("qa", "In what year did Tesla die?", params={"reader": {"top_k": 3}})
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.loader import describe, find_pipeline, graph_components
from odqa.pipelines.runner import QueryRunner, RunResult
from odqa.serve.schemas import ALLOWED_PARAMS, MAX_DEPTH


class Busy(RuntimeError):
    """Every worker and queue slot is taken; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all workers busy; retry in {retry_after} s")
        self.retry_after = retry_after


class UnknownPipeline(KeyError):
    """A request named a graph this server does not serve."""


class NotReady(RuntimeError):
    """A served graph could not be opened (missing model or index, bad graph); the message says why."""


class BadParams(ValueError):
    """A request set a run-time parameter that is not allowed or names no component of the graph."""


@dataclass
class Engine:
    """The served graphs and the worker pool.

    :param env: the pipeline environment (index, models, device, backends).
    :param pipelines: graph names or YAML paths; the first is the default and is loaded at start,
        the others on first use.
    :param workers: runs at the same time (CPU-bound: about one per two cores).
    :param queue: requests allowed to wait for a worker; more are refused (503).
    """

    env: PipelineEnv
    pipelines: list[str]
    workers: int = 1
    queue: int = 4
    #: ``component -> {parameter: value}`` (``odqa serve --set``), applied to each served graph that
    #: has the component
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    _runners: dict[str, QueryRunner] = field(default_factory=dict, init=False)
    _load_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _slots: threading.BoundedSemaphore | None = field(default=None, init=False)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False)
    _seconds_per_run: float = field(default=1.0, init=False)

    def __post_init__(self) -> None:
        if not self.pipelines:
            raise ValueError("serve at least one pipeline")
        if self.workers < 1 or self.queue < 0:
            raise ValueError(f"workers must be >= 1 and queue >= 0 (got {self.workers}, {self.queue})")
        served: set[str] = set()
        for name in self.pipelines:
            served |= graph_components(name)  # an unknown graph fails at start, not at the first request
        unknown = sorted(set(self.overrides) - served)
        if unknown:
            raise ValueError(
                f"--set names component(s) {', '.join(unknown)} that no served graph has "
                f"({', '.join(self.pipelines)}: {', '.join(sorted(served))})"
            )

    @property
    def default(self) -> str:
        return self.pipelines[0]

    def start(self) -> None:
        """Start the pool, then open the default graph (models loaded, stores opened)."""
        self._slots = threading.BoundedSemaphore(self.workers + self.queue)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="odqa-worker")
        self.runner(self.default)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def ready(self) -> bool:
        return self._pool is not None and self.default in self._runners

    def loaded(self, name: str) -> bool:
        return name in self._runners

    def runner(self, name: str | None) -> QueryRunner:
        """The warmed-up runner of a served graph (opened on first use)."""
        name = name or self.default
        if name not in self.pipelines:
            raise UnknownPipeline(
                f"pipeline {name!r} is not served here; served: {', '.join(self.pipelines)}"
            )
        with self._load_lock:
            if name not in self._runners:
                mine = graph_components(name)
                overrides = {c: p for c, p in self.overrides.items() if c in mine}
                self._runners[name] = open_runner(self.env, name, overrides)
            return self._runners[name]

    async def open(self, name: str | None) -> QueryRunner:
        """:meth:`runner` off the event loop (opening a graph loads models); failures are
        :class:`NotReady` (a 503), an unknown name :class:`UnknownPipeline`."""
        if (name or self.default) in self._runners:
            return self._runners[name or self.default]
        try:
            return await asyncio.to_thread(self.runner, name)
        except UnknownPipeline:
            raise
        except Exception as e:
            raise NotReady(f"cannot open pipeline {name!r}: {e}") from e

    def describe(self, name: str) -> dict[str, Any]:
        components = self._runners[name].order if name in self._runners else []
        return {
            "name": name,
            "description": describe(find_pipeline(name)),
            "loaded": name in self._runners,
            "components": components,
            "params": {c: list(p) for c, p in ALLOWED_PARAMS.items() if not components or c in components},
        }

    def check_params(self, name: str, params: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
        """``params`` if every one is allowed and names a component of graph ``name`` (opened)."""
        runner = self._runners[name]
        for comp, values in params.items():
            if comp not in runner.order:
                raise BadParams(
                    f"pipeline {name!r} has no component {comp!r}; it has {', '.join(runner.order)}"
                )
            for key, value in values.items():
                if key not in ALLOWED_PARAMS.get(comp, ()):
                    allowed = ", ".join(f"{c}.{p}" for c, ps in ALLOWED_PARAMS.items() for p in ps)
                    raise BadParams(f"{comp}.{key} cannot be set per request; allowed: {allowed}")
                if not 1 <= int(value) <= MAX_DEPTH:
                    raise BadParams(f"{comp}.{key} must be between 1 and {MAX_DEPTH}, got {value}")
        return {c: dict(v) for c, v in params.items()}

    def _run_sync(self, name: str, question: str, params: dict[str, dict[str, Any]]) -> RunResult:
        result = self.runner(name).run(question, params=params)
        self._seconds_per_run = 0.8 * self._seconds_per_run + 0.2 * result.total_s
        return result

    async def run(self, name: str | None, question: str, params: dict[str, dict[str, Any]]) -> RunResult:
        """Run graph ``name`` on a worker; :class:`Busy` when no slot is free right now."""
        return await self.call(self._run_sync, name or self.default, question, params)

    async def call(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` on a worker of the bounded pool; :class:`Busy` when no slot is free now."""
        if self._slots is None or self._pool is None:
            raise RuntimeError("the engine is not started")
        if not self._slots.acquire(blocking=False):
            waiting = self.workers + self.queue
            raise Busy(max(1, round(self._seconds_per_run * waiting / self.workers)))
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self._slots.release()

    def documents(self, name: str, doc_id: str) -> list[Any]:
        """The passages of document ``doc_id`` (or the passage with that id) in the graph's stores."""
        for _, component in self.runner(name).pipeline.walk():
            store = getattr(component, "document_store", None)
            if store is None or not hasattr(store, "filter_documents"):
                continue
            for field_name in ("meta.doc_id", "id"):
                found = store.filter_documents({"field": field_name, "operator": "==", "value": doc_id})
                if found:
                    return sorted(found, key=lambda d: (d.meta.get("passage_no", 0), d.id))
        return []
