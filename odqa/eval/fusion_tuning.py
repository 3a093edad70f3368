"""Tune a hybrid graph's fusion on judged queries: RRF k, weighted fusion with each normalisation,
and each retriever's depth; the winner becomes a ``--set @FILE`` override file.

Every query runs through the graph once, with both retrievers returning their deepest list; every
setting of the grid is then scored offline by re-fusing those lists with :class:`FusionJoiner`
(the same code the graph runs), so a grid of hundreds of settings costs one pass of retrieval.
With ``holdout > 0`` the queries are split (seeded, :func:`odqa.eval.splits.query_split`: with the
defaults, the train / dev halves of ``odqa train retriever`` and ``odqa eval --queries``) into a tuning
and a test part: the winner is
chosen on the tuning part and compared with the baseline (the graph's own fusion, e.g. ``hybrid``:
RRF k = 60, equal weights, depths 100/100) on the test part by the paired randomization test, so
the reported gain is not the tuning's own optimism.

Usage::

    lists = collect_source_lists(runner, dataset)          # one pass of retrieval
    result = tune_fusion(lists, dataset.qrels, doc_level=True)
    result.winner.overrides()   # {"fusion": {...}, "bm25": {"top_k": ...}, "dense": {"top_k": ...}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from haystack import Document
from tqdm import tqdm

from odqa.components.joiners.fusion_joiner import FusionJoiner
from odqa.eval.metrics import evaluate
from odqa.eval.significance import MetricComparison, compare_per_query
from odqa.eval.splits import query_split
from odqa.pipelines.search import ranking_from_documents

SOURCES = ("bm25", "dense")
DEPTHS = (20, 50, 100)
RRF_KS = (5.0, 10.0, 20.0, 40.0, 60.0, 100.0)
RRF_DENSE_WEIGHTS = (0.5, 1.0, 1.5, 2.0)
WEIGHTED_DENSE_WEIGHTS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
NORMALIZATIONS = ("minmax", "zscore")
Lists = dict[str, dict[str, list[Document]]]  # qid -> source -> ranked passages


@dataclass(frozen=True)
class FusionSetting:
    """One point of the grid: how to fuse, and how deep each retriever's list is."""

    mode: str = "rrf"
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    normalization: str = "minmax"
    depth_bm25: int = 50
    depth_dense: int = 50

    @property
    def label(self) -> str:
        how = f"rrf k={self.rrf_k:g}" if self.mode == "rrf" else f"weighted {self.normalization}"
        return f"{how}, dense w={self.dense_weight:g}, depth {self.depth_bm25}/{self.depth_dense}"

    def joiner(self) -> FusionJoiner:
        return FusionJoiner(
            sources=list(SOURCES),
            mode=self.mode,
            rrf_k=self.rrf_k,
            weights={"bm25": 1.0, "dense": self.dense_weight},
            normalization=self.normalization,
        )

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The ``--set`` overrides that make a graph fuse this way (``fusion.top_k`` untouched: in
        ``qa`` it is the number of passages read)."""
        fusion: dict[str, Any] = {"mode": self.mode, "weights": {"bm25": 1.0, "dense": self.dense_weight}}
        if self.mode == "rrf":
            fusion["rrf_k"] = self.rrf_k
        else:
            fusion["normalization"] = self.normalization
        return {"fusion": fusion, "bm25": {"top_k": self.depth_bm25}, "dense": {"top_k": self.depth_dense}}


def graph_fusion_setting(graph: str, sets: Sequence[str] = ()) -> FusionSetting:
    """The fusion a retrieval graph runs (its YAML with the ``--set`` items applied): the baseline
    a tuned setting must beat.

    :raises ValueError: the graph reads or re-ranks (tune on its retrieval part, e.g. ``hybrid``),
        or has no ``bm25``/``dense``/``fusion`` components.
    """
    import yaml

    from odqa.pipelines.loader import fill, find_pipeline, parse_overrides, placeholders

    text = find_pipeline(graph).read_text(encoding="utf-8")
    text = fill(text, dict.fromkeys(placeholders(text), "x"))  # models and paths do not matter here
    comps = (yaml.safe_load(text) or {}).get("components") or {}
    answering = [
        n for n, c in comps.items() if any(k in str(c.get("type", "")) for k in ("Reader", "Ranker"))
    ]
    if answering:
        raise ValueError(
            f"graph {graph!r} runs {', '.join(answering)} after the fusion: tune the fusion on its "
            "retrieval graph (--pipeline hybrid) and use the file with this one"
        )
    missing = [n for n in ("bm25", "dense", "fusion") if n not in comps]
    if missing:
        raise ValueError(
            f"graph {graph!r} has no component {missing[0]!r}; fusion tuning needs bm25, dense and fusion"
        )
    overrides = parse_overrides(list(sets))

    def param(comp: str, name: str, default: Any) -> Any:
        merged = {**(comps[comp].get("init_parameters") or {}), **overrides.get(comp, {})}
        return merged.get(name, default)

    weights = param("fusion", "weights", None) or {}
    return FusionSetting(
        mode=str(param("fusion", "mode", "rrf")),
        rrf_k=float(param("fusion", "rrf_k", 60.0)),
        dense_weight=float(weights.get("dense", 1.0)) / float(weights.get("bm25", 1.0)),
        normalization=str(param("fusion", "normalization", "minmax")),
        depth_bm25=int(param("bm25", "top_k", 50)),
        depth_dense=int(param("dense", "top_k", 50)),
    )


def default_grid(depths: Sequence[int] = DEPTHS) -> list[FusionSetting]:
    """RRF over :data:`RRF_KS` x :data:`RRF_DENSE_WEIGHTS` and weighted fusion over
    :data:`NORMALIZATIONS` x :data:`WEIGHTED_DENSE_WEIGHTS`, each at every pair of depths."""
    hows = [("rrf", k, w, "minmax") for k in RRF_KS for w in RRF_DENSE_WEIGHTS]
    hows += [("weighted", 60.0, w, n) for n in NORMALIZATIONS for w in WEIGHTED_DENSE_WEIGHTS]
    return [
        FusionSetting(mode, k, w, n, d1, d2) for (mode, k, w, n) in hows for d1 in depths for d2 in depths
    ]


def collect_source_lists(
    runner: Any, queries: Iterable[Any], sources: Sequence[str] = SOURCES, *, progress: bool = True
) -> Lists:
    """Run every query (``.qid``, ``.text``) once; keep each source stage's ranked passages.

    :param runner: a :class:`~odqa.pipelines.runner.QueryRunner` over a graph whose retrievers are
        named ``sources`` (open it with their ``top_k`` at the deepest depth of the grid).
    :raises ValueError: the graph has no stage named like a source.
    """
    out: Lists = {}
    items = list(queries)
    for q in tqdm(items, desc="retrieving", unit="q", disable=not progress):
        stages = runner.run(q.text).documents_by_stage()
        missing = [s for s in sources if s not in stages]
        if missing:
            raise ValueError(
                f"the graph has no stage {missing[0]!r}; fusion tuning needs {', '.join(sources)}"
            )
        out[q.qid] = {s: stages[s] for s in sources}
    return out


def score_setting(
    setting: FusionSetting,
    lists: Lists,
    qrels: Mapping[str, Mapping[str, int]],
    metrics: Sequence[str],
    *,
    doc_level: bool,
    top_k: int = 100,
) -> dict[str, dict[str, float]]:
    """Per-query ``metrics`` of the fused rankings under ``setting`` (trec_eval, missing = 0)."""
    joiner = setting.joiner()
    depth = {"bm25": setting.depth_bm25, "dense": setting.depth_dense}
    run = {}
    for qid, by_source in lists.items():
        fused = joiner.fuse({s: docs[: depth[s]] for s, docs in by_source.items()}, top_k=None)
        run[qid] = ranking_from_documents(fused, top_k=top_k, doc_level=doc_level)
    judged = {q: qrels[q] for q in lists if q in qrels}
    return evaluate(judged, run, list(metrics), missing_as_zero=True, per_query=True).per_query


@dataclass
class TuningResult:
    """The grid's scores on the tuning queries, the winner and its test against the baseline."""

    metric: str
    settings: list[FusionSetting]
    tune_means: dict[FusionSetting, float]
    winner: FusionSetting
    baseline: FusionSetting
    tune_qids: list[str]
    test_qids: list[str]
    test_means: dict[str, dict[str, float]] = field(default_factory=dict)  # "winner"/"baseline" -> metric
    comparisons: list[MetricComparison] = field(default_factory=list)

    def ranked(self) -> list[tuple[FusionSetting, float]]:
        return sorted(self.tune_means.items(), key=lambda kv: (-kv[1], kv[0].label))


def tune_fusion(
    lists: Lists,
    qrels: Mapping[str, Mapping[str, int]],
    *,
    doc_level: bool,
    metric: str = "nDCG@10",
    report: Sequence[str] = ("nDCG@10", "R@100", "MAP", "MRR"),
    settings: Sequence[FusionSetting] | None = None,
    baseline: FusionSetting | None = None,
    holdout: float = 0.5,
    seed: int = 13,
    progress: bool = True,
) -> TuningResult:
    """Score every setting on the tuning queries, pick the best ``metric`` (ties: the earlier
    setting of the grid), compare it with ``baseline`` on the test queries.

    :param baseline: the graph's fusion (:func:`graph_fusion_setting`); default RRF k = 60, equal
        weights, depths 50/50.
    """
    baseline = baseline or FusionSetting()
    grid = list(settings if settings is not None else default_grid())
    if baseline not in grid:
        grid.insert(0, baseline)
    judged = [q for q in lists if q in qrels]
    tune_qids, test_qids = query_split(judged, holdout, seed) if holdout else (judged, judged)
    tune_lists = {q: lists[q] for q in tune_qids}
    means: dict[FusionSetting, float] = {}
    for s in tqdm(grid, desc="fusion settings", unit="setting", disable=not progress):
        pq = score_setting(s, tune_lists, qrels, [metric], doc_level=doc_level)
        means[s] = sum(v[metric] for v in pq.values()) / max(1, len(pq))
    winner = max(grid, key=lambda s: means[s])  # max keeps the first of equals
    result = TuningResult(metric, grid, means, winner, baseline, tune_qids, test_qids)
    test_lists = {q: lists[q] for q in test_qids}
    names = list(dict.fromkeys([metric, *report]))
    per = {
        name: score_setting(s, test_lists, qrels, names, doc_level=doc_level)
        for name, s in (("winner", winner), ("baseline", baseline))
    }
    for name, pq in per.items():
        result.test_means[name] = {m: sum(v[m] for v in pq.values()) / max(1, len(pq)) for m in names}
    result.comparisons = compare_per_query(per["winner"], per["baseline"], names)
    return result
