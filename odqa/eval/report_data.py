"""The content of a comparison report, computed from ``odqa eval`` results files.

Results are grouped by dataset (name and split).  Within a group the first pipeline (or the one
named ``baseline``) is the baseline; every other pipeline is compared with it on the per-query
values of each metric, with :func:`odqa.eval.significance.compare_per_query` (paired
randomization test and paired t-test).  Rendering is in :mod:`odqa.eval.report`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odqa.eval.pipeline_eval import RESULTS_KIND
from odqa.eval.significance import DEFAULT_PERMUTATIONS, MetricComparison, compare_per_query

__all__ = [
    "HEADLINE_METRICS",
    "ChangedQuery",
    "DatasetSection",
    "PipelineEntry",
    "build_sections",
    "load_results",
]

#: metrics shown in the main table when present, in this order
HEADLINE_METRICS: tuple[str, ...] = (
    "nDCG@10",
    "MAP",
    "MRR",
    "P@5",
    "P@10",
    "R@10",
    "R@100",
    "AR@5",
    "AR@20",
    "EM",
    "F1",
)
READER_METRICS = ("EM", "F1")


def load_results(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Read results files written by ``odqa eval`` (:meth:`PipelineEvaluation.write`).

    :raises ValueError: a file is not JSON or not an ``odqa eval`` results file (the message
        names the file).
    """
    out = []
    for p in paths:
        path = Path(p)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e
        if not isinstance(data, dict) or data.get("kind") != RESULTS_KIND:
            raise ValueError(f"{path}: not an `odqa eval` results file (kind {RESULTS_KIND!r} expected)")
        data["_path"] = str(path)
        out.append(data)
    return out


@dataclass
class PipelineEntry:
    """One pipeline's results on one dataset, flattened for the report."""

    name: str
    final_stage: str
    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    curves: dict[str, dict[int, float]]
    stages: list[dict[str, Any]]
    latency_ms: dict[str, dict[str, float]]
    ragas: dict[str, Any] | None
    predictions: dict[str, list[dict[str, Any]]]
    source: str


@dataclass
class ChangedQuery:
    """A query whose primary metric moved between the baseline and a pipeline."""

    qid: str
    text: str
    baseline: float
    other: float
    baseline_answer: str | None = None
    other_answer: str | None = None

    @property
    def delta(self) -> float:
        return self.other - self.baseline


@dataclass
class DatasetSection:
    """Everything the report shows about one dataset."""

    title: str
    dataset: dict[str, Any]
    pipelines: list[PipelineEntry]
    baseline: str
    metrics: list[str]
    primary: str
    comparisons: dict[str, list[MetricComparison]] = field(default_factory=dict)
    changed: dict[str, list[ChangedQuery]] = field(default_factory=dict)
    queries: dict[str, str] = field(default_factory=dict)

    def entry(self, name: str) -> PipelineEntry:
        return next(p for p in self.pipelines if p.name == name)

    def comparison(self, pipeline: str, metric: str) -> MetricComparison | None:
        for c in self.comparisons.get(pipeline, []):
            if c.metric == metric:
                return c
        return None


def _entry(result: dict[str, Any]) -> PipelineEntry:
    stages = result["stages"]
    final = next(s for s in stages if s["name"] == result["final_stage"])
    means = dict(final["metrics"])
    per_query = {q: dict(v) for q, v in final["per_query"].items()}
    for reader in [s for s in stages if s["kind"] == "reader"][-1:]:
        means.update({m: reader["metrics"][m] for m in READER_METRICS if m in reader["metrics"]})
        for q, vals in reader["per_query"].items():
            per_query.setdefault(q, {}).update({m: vals[m] for m in READER_METRICS if m in vals})
    curves = {m: {int(k): v for k, v in c.items()} for m, c in final.get("curves", {}).items()}
    return PipelineEntry(
        name=Path(str(result["pipeline"])).stem,
        final_stage=final["name"],
        means=means,
        per_query=per_query,
        curves=curves,
        stages=stages,
        latency_ms=result.get("latency_ms", {}),
        ragas=result.get("ragas"),
        predictions=result.get("predictions", {}),
        source=result.get("_path", ""),
    )


def _unique_names(entries: list[PipelineEntry]) -> None:
    seen: dict[str, int] = {}
    for e in entries:
        n = seen.get(e.name, 0)
        seen[e.name] = n + 1
        if n:
            e.name = f"{e.name} ({n + 1})"


def _changed(
    section: DatasetSection, base: PipelineEntry, other: PipelineEntry, metric: str, top: int
) -> list[ChangedQuery]:
    rows = []
    for qid, vals in other.per_query.items():
        b = base.per_query.get(qid, {}).get(metric)
        o = vals.get(metric)
        if b is None or o is None or b == o:
            continue

        def answer(entry: PipelineEntry, qid: str = qid) -> str | None:
            preds = entry.predictions.get(qid) or []
            return str(preds[0]["answer"]) if preds else None

        rows.append(ChangedQuery(qid, section.queries.get(qid, ""), b, o, answer(base), answer(other)))
    rows.sort(key=lambda r: (-abs(r.delta), r.qid))
    return rows[:top]


def build_sections(
    results: Sequence[dict[str, Any]],
    *,
    baseline: str | None = None,
    metrics: Sequence[str] | None = None,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    top_changed: int = 10,
) -> list[DatasetSection]:
    """Group results by dataset and compare every pipeline with the baseline.

    :param baseline: pipeline name used as baseline in every dataset that has it (default: the
        first results file of each dataset).
    :param metrics: the metrics to show and test (default: :data:`HEADLINE_METRICS` present).
    :param top_changed: how many most-changed queries to list per pipeline.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        ds = r["dataset"]
        split = str(ds.get("split", ""))
        if ds.get("subset", "all") != "all":  # the train / dev queries of odqa.eval.splits
            split += f" ({ds['subset']} queries)"
        groups.setdefault((str(ds["name"]), split), []).append(r)
    sections = []
    for (name, split), group in groups.items():
        entries = [_entry(r) for r in group]
        _unique_names(entries)
        base_name = baseline if baseline in {e.name for e in entries} else entries[0].name
        wanted = metrics or HEADLINE_METRICS
        # reader metrics are shown when any pipeline has them ("–" for retrieval-only ones)
        available = [
            m
            for m in wanted
            if all(m in e.means for e in entries)
            or (m in READER_METRICS and any(m in e.means for e in entries))
        ]
        if not available:
            available = [m for m in entries[0].means if all(m in e.means for e in entries)][:8]
        shared = [m for m in available if all(m in e.means for e in entries)]
        primary = next((m for m in ("F1", "nDCG@10", "MRR") if m in shared), shared[0] if shared else "")
        queries: dict[str, str] = {}
        for r in group:
            queries.update(r.get("queries", {}))
        section = DatasetSection(
            title=f"{name} ({split})" if split and split != "all" else name,
            dataset=group[0]["dataset"],
            pipelines=entries,
            baseline=base_name,
            metrics=available,
            primary=primary,
            queries=queries,
        )
        base = section.entry(base_name)
        for e in entries:
            if e.name == base_name:
                continue
            section.comparisons[e.name] = compare_per_query(
                e.per_query, base.per_query, available, n_permutations=n_permutations, seed=seed
            )
            if primary:
                section.changed[e.name] = _changed(section, base, e, primary, top_changed)
        sections.append(section)
    return sections


def fmt(value: float | None, digits: int = 4) -> str:
    """A metric value for display (``"–"`` for a missing one)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def fmt_p(p: float | None) -> str:
    """A p-value for display."""
    if p is None or math.isnan(p):
        return "n/a"
    if p < 0.0001:
        return "<0.0001"
    return f"{p:.4f}"
