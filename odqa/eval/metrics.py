r"""Retrieval metrics with ``trec_eval`` conventions, vectorised with numpy.

Entry point: :func:`evaluate`.  It sorts every query's results once into a
:class:`RelevanceMatrix` (one row per query, one column per rank, holding the qrels
grade of the document at that rank) and computes every requested metric from that
matrix with array operations.  The per-metric functions (:func:`precision`,
:func:`recall`, ...) take the matrix and return one value per query; their docstrings
give the formulas.

Conventions (those of ``trec_eval`` 9.x, and therefore of ``pytrec_eval``):

* **Ranking.** Results are ordered by score descending; equal scores are ordered by
  docid *descending* (``trec_eval`` sorts with ``qsort`` on ``(score, docno)``, both
  descending, and ignores the rank column of the run file).
* **Relevance.** A document is relevant when its qrels grade is ``>= rel_threshold``
  (``trec_eval -l``, default 1).  Documents absent from the qrels ("never judged")
  are non-relevant, exactly like judged non-relevant ones.
* **R** is the number of relevant documents *in the qrels* for the query, retrieved
  or not.  Recall, AP and R-precision divide by R.
* **Cutoffs.** ``P@k`` divides by ``k`` even when fewer than ``k`` documents were
  retrieved.  Metrics at ``k`` only look at ranks ``1..k``.
* **Which queries count.** By default the mean is taken over the queries present in
  both the run and the qrels (queries only in the run are ignored, queries only in the
  qrels are ignored).  With ``missing_as_zero=True`` every query of the qrels counts
  and those absent from the run score 0 for every metric (``trec_eval -c``).
  A query present in the run with an empty result list is evaluated (all metrics 0).
* **Queries without relevant documents.**  A query that has judgements but none of
  them ``>= rel_threshold`` is *not* skipped: ``trec_eval`` and ``pytrec_eval`` (checked
  for ``pytrec-eval-terrier`` 0.5.11, and in ``trec_eval``'s ``trec_eval.c`` /
  ``form_res_rels.c``) evaluate it, every metric is 0, and it counts in the mean
  (``ranx`` does the same).  The same holds here.  A query whose judgement dict is
  empty has no judgements at all and is treated as absent from the qrels (a TREC qrels
  file cannot express it, and ``pytrec_eval`` reads uninitialised memory on it).

Known disagreements between the reference implementations (the functions here follow
``trec_eval``/``pytrec_eval`` except where stated):

* **Ties.** ``ranx`` 0.3.21 orders equal scores by the reversed result of an unstable
  numba ``argsort``, i.e. effectively by insertion order, not by docid; on runs with
  tied scores its values differ from ``trec_eval``'s.  Without ties the two agree.
* **nDCG with** ``rel_threshold > 1``.  ``trec_eval``'s ``ndcg_cut`` ignores the
  relevance level: grades below it still earn gain = grade, in the run and in the ideal
  ranking.  Here (and in ``ranx``) grades below the threshold earn no gain in either,
  so the measure stays consistent with the other metrics.  With the default
  ``rel_threshold=1`` all three agree.
* ``ranx`` needs the run and qrels to have exactly the same query ids (assertion error
  otherwise) and fails on a query with an empty result list.
* ``trec_eval`` has no ``RR@k`` (``ranx`` has: ``mrr@k``); ``pytrec_eval`` accepts
  ``recip_rank.10`` but silently ignores the cutoff and returns the full RR.  Neither
  has ``AP_retrieved``.

This module deliberately imports nothing else from :mod:`odqa`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_METRICS",
    "EvalResult",
    "MetricSpec",
    "RelevanceMatrix",
    "average_precision",
    "average_precision_retrieved",
    "evaluate",
    "ndcg",
    "parse_metric",
    "precision",
    "r_precision",
    "recall",
    "reciprocal_rank",
    "relevance_matrix",
    "success",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_METRICS: tuple[str, ...] = ("P@5", "P@10", "R@100", "MAP", "MRR", "nDCG@10", "R-prec", "success@5")
"""Metrics computed by :func:`evaluate` when none are named."""

VALID_METRICS = (
    "P@k, R@k, MAP, AP@k, MRR, RR@k, nDCG@k, nDCG, R-prec, success@k, AP_retrieved "
    "(k a positive integer; names are case-insensitive; aliases: AP = MAP, RR = MRR, "
    "MAP@k = AP@k, MRR@k = RR@k, Rprec = R-prec)"
)

# Cells (queries x ranks) per block: bounds memory to a few tens of MB.
_BLOCK_CELLS = 1 << 20


# --------------------------------------------------------------------------------------
# Metric names
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricSpec:
    """A parsed metric name.

    :ivar kind: one of ``P``, ``R``, ``AP``, ``RR``, ``nDCG``, ``R-prec``, ``success``,
        ``AP_retrieved``.
    :ivar k: the cutoff, or ``None`` for the whole ranking.
    """

    kind: str
    k: int | None = None

    @property
    def canonical(self) -> str:
        """The canonical spelling, e.g. ``"nDCG@10"`` or ``"MAP"``."""
        if self.k is None:
            return {"AP": "MAP", "RR": "MRR"}.get(self.kind, self.kind)
        return f"{self.kind}@{self.k}"


_WITH_CUTOFF = {
    "p": "P",
    "r": "R",
    "ap": "AP",
    "map": "AP",
    "rr": "RR",
    "mrr": "RR",
    "ndcg": "nDCG",
    "success": "success",
}
_WITHOUT_CUTOFF = {
    "map": "AP",
    "ap": "AP",
    "mrr": "RR",
    "rr": "RR",
    "ndcg": "nDCG",
    "r-prec": "R-prec",
    "rprec": "R-prec",
    "ap_retrieved": "AP_retrieved",
}
_NAME_RE = re.compile(r"^(?P<base>[A-Za-z_\-]+)(?:@(?P<k>[0-9]+))?$")


def parse_metric(name: str) -> MetricSpec:
    """Parse a metric name such as ``"P@5"``, ``"MAP"``, ``"nDCG@10"`` or ``"R-prec"``.

    :param name: the metric name; see :data:`VALID_METRICS` for the accepted forms.
    :returns: the parsed :class:`MetricSpec`.
    :raises ValueError: for an unknown name or a cutoff that is not a positive
        integer; the message lists the valid names.
    """
    match = _NAME_RE.match(name.strip())
    if match is not None:
        base = match["base"].lower()
        k_text = match["k"]
        if k_text is None and base in _WITHOUT_CUTOFF:
            return MetricSpec(_WITHOUT_CUTOFF[base])
        if k_text is not None and base in _WITH_CUTOFF:
            k = int(k_text)
            if k >= 1:
                return MetricSpec(_WITH_CUTOFF[base], k)
    raise ValueError(f"unknown metric {name!r}; valid metrics are: {VALID_METRICS}")


# --------------------------------------------------------------------------------------
# Relevance matrix
# --------------------------------------------------------------------------------------
def _safe_div(num: npt.ArrayLike, den: npt.ArrayLike) -> FloatArray:
    """``num / den`` element-wise, 0 where ``den == 0``."""
    num_a = np.asarray(num, dtype=np.float64)
    den_a = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num_a, den_a).shape, dtype=np.float64)
    np.divide(num_a, den_a, out=out, where=den_a != 0)
    return out


@dataclass(eq=False)
class RelevanceMatrix:
    """Qrels grades of the ranked results of a batch of queries.

    Row ``i`` is query ``qids[i]``; column ``j`` is rank ``j + 1`` in ``trec_eval``
    order.  Ranks past the end of a query's result list hold grade 0, which is
    equivalent to a retrieved non-relevant document for every metric here (cutoff
    metrics divide by ``k`` regardless of how many documents were retrieved).

    :ivar qids: query ids, one per row.
    :ivar grades: ``(n_queries, depth)`` qrels grade of the document at each rank
        (0 for documents never judged and for padding).
    :ivar n_rel: ``(n_queries,)`` R, the number of qrels documents with grade
        ``>= threshold``.
    :ivar ideal: ``(n_queries, ideal_depth)`` the relevant grades of the qrels sorted
        descending, zero padded (the ideal ranking for nDCG).
    :ivar threshold: the minimum grade of a relevant document.
    """

    qids: list[str]
    grades: IntArray
    n_rel: IntArray
    ideal: IntArray
    threshold: int = 1

    @property
    def depth(self) -> int:
        """Number of rank columns."""
        return int(self.grades.shape[1])

    @cached_property
    def rel(self) -> BoolArray:
        """``rel[i, j]``: the document at rank ``j + 1`` is relevant."""
        return self.grades >= self.threshold

    @cached_property
    def gains(self) -> FloatArray:
        """Gain of each ranked document: its grade if relevant, else 0."""
        return np.where(self.rel, self.grades, 0).astype(np.float64)

    @cached_property
    def ranks(self) -> FloatArray:
        """``1..depth`` as floats."""
        return np.arange(1, self.depth + 1, dtype=np.float64)

    @cached_property
    def cum_rel(self) -> IntArray:
        """``cum_rel[i, j]``: relevant documents within the top ``j + 1``."""
        return np.cumsum(self.rel, axis=1, dtype=np.int64)

    @cached_property
    def cum_precision_at_rel(self) -> FloatArray:
        """Running sum over ranks of ``P@rank * rel(rank)`` (the AP numerator)."""
        terms = np.where(self.rel, self.cum_rel / self.ranks, 0.0)
        return np.cumsum(terms, axis=1)

    @cached_property
    def first_rel(self) -> tuple[IntArray, BoolArray]:
        """(0-based rank of the first relevant document, whether there is one)."""
        return np.argmax(self.rel, axis=1).astype(np.int64), self.rel.any(axis=1)

    def column(self, k: int) -> int:
        """Index of the last column within cutoff ``k`` (clipped to the matrix)."""
        return min(k, self.depth) - 1


def _trec_eval_order(row: IntArray, scores: FloatArray, docids: Callable[[], list[str]]) -> IntArray:
    """Permutation sorting flat results by row ascending, score descending, docid descending.

    The numeric keys are sorted first; docids are only compared inside groups of equal
    (row, score), as UTF-8 bytes -- the order of ``strcmp`` in ``trec_eval``.

    :param row: query index of each result.
    :param scores: score of each result.
    :param docids: returns the docid of each result (called only if there are ties).
    """
    # lexsort: the last key is primary; stable, so ties keep their input order for now.
    order = np.lexsort((-scores, row))
    sorted_row = row[order]
    sorted_score = scores[order]
    tie_with_next = (sorted_row[1:] == sorted_row[:-1]) & (sorted_score[1:] == sorted_score[:-1])
    if not tie_with_next.any():
        return order
    group = np.concatenate(([0], np.cumsum(~tie_with_next)))
    tied = np.flatnonzero(np.bincount(group)[group] > 1)  # positions inside tie groups
    ids = docids()
    keys = np.array([ids[i].encode("utf-8") for i in order[tied]], dtype=np.bytes_)
    # Ascending on (-group, docid) then reversed: group ascending, docid descending.
    within = np.lexsort((keys, -group[tied]))[::-1]
    order[tied] = order[tied][within]
    return order


def relevance_matrix(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    qids: Sequence[str],
    *,
    rel_threshold: int = 1,
    min_depth: int = 1,
    ideal_depth: int = 0,
) -> RelevanceMatrix:
    """Sort the results of ``qids`` once, in ``trec_eval`` order, into a matrix.

    All queries are sorted together by one :func:`numpy.lexsort` on (query, score);
    docids are compared only to order tied scores.  The result is scattered into a dense
    ``(len(qids), depth)`` grade matrix.

    :param qrels: ``qid -> docid -> grade``; every qid of ``qids`` must be present.
    :param run: ``qid -> docid -> score``; every qid of ``qids`` must be present.
    :param qids: the queries (rows), in order.
    :param rel_threshold: minimum grade of a relevant document.
    :param min_depth: minimum number of rank columns (the largest cutoff needed).
    :param ideal_depth: number of columns of the ideal ranking (the largest nDCG
        cutoff); ``-1`` for all relevant documents.
    :returns: the :class:`RelevanceMatrix`.
    :raises ValueError: if a score is NaN.
    """
    nq = len(qids)
    lengths = np.fromiter((len(run[q]) for q in qids), dtype=np.int64, count=nq)
    total = int(lengths.sum())
    depth = max(int(lengths.max(initial=0)), min_depth, 1)

    scores = np.fromiter((s for q in qids for s in run[q].values()), dtype=np.float64, count=total)
    if np.isnan(scores).any():
        bad = next(q for q in qids if any(math.isnan(s) for s in run[q].values()))
        raise ValueError(f"run has a NaN score for query {bad!r}")
    grades = np.fromiter((qrels[q].get(d, 0) for q in qids for d in run[q]), dtype=np.int64, count=total)
    row = np.repeat(np.arange(nq, dtype=np.int64), lengths)
    order = _trec_eval_order(row, scores, lambda: [d for q in qids for d in run[q]])
    starts = np.cumsum(lengths) - lengths
    sorted_row = row[order]
    position = np.arange(total, dtype=np.int64) - starts[sorted_row]
    matrix = np.zeros((nq, depth), dtype=np.int64)
    matrix[sorted_row, position] = grades[order]

    rel_grades = [[g for g in qrels[q].values() if g >= rel_threshold] for q in qids]
    n_rel = np.fromiter((len(g) for g in rel_grades), dtype=np.int64, count=nq)
    if ideal_depth < 0:
        ideal_depth = int(n_rel.max(initial=0))
    ideal = np.zeros((nq, max(ideal_depth, 1)), dtype=np.int64)
    if ideal_depth > 0 and int(n_rel.sum()) > 0:
        flat = np.fromiter((g for gs in rel_grades for g in gs), dtype=np.int64, count=int(n_rel.sum()))
        flat_row = np.repeat(np.arange(nq, dtype=np.int64), n_rel)
        by_grade = np.lexsort((-flat, flat_row))
        rank_in_row = np.arange(flat.size, dtype=np.int64) - (np.cumsum(n_rel) - n_rel)[flat_row[by_grade]]
        keep = rank_in_row < ideal.shape[1]
        ideal[flat_row[by_grade][keep], rank_in_row[keep]] = flat[by_grade][keep]
    return RelevanceMatrix(list(qids), matrix, n_rel, ideal, rel_threshold)


# --------------------------------------------------------------------------------------
# Metrics, one value per query (row)
# --------------------------------------------------------------------------------------
def precision(m: RelevanceMatrix, k: int) -> FloatArray:
    r"""Precision at ``k`` (``trec_eval`` ``P_k``).

    .. math::

        \operatorname{P@k} = \frac{\sum_{i=1}^{k} \operatorname{rel}_i}{k}

    where :math:`\operatorname{rel}_i` is 1 if the document at rank :math:`i` is
    relevant, else 0 (ranks past the end of the result list are non-relevant).  The
    denominator is always :math:`k`, even when fewer than :math:`k` documents were
    retrieved.
    """
    return _safe_div(m.cum_rel[:, m.column(k)], k)


def recall(m: RelevanceMatrix, k: int) -> FloatArray:
    r"""Recall at ``k`` (``trec_eval`` ``recall_k``).

    .. math::

        \operatorname{R@k} = \frac{\sum_{i=1}^{k} \operatorname{rel}_i}{R}

    where :math:`R` is the number of relevant documents in the qrels for the query
    (0 when :math:`R = 0`).
    """
    return _safe_div(m.cum_rel[:, m.column(k)], m.n_rel)


def average_precision(m: RelevanceMatrix, k: int | None = None) -> FloatArray:
    r"""Average precision (``trec_eval`` ``map``), or AP at ``k`` (``map_cut_k``).

    .. math::

        \operatorname{AP@k} = \frac{1}{R} \sum_{i=1}^{k} \operatorname{P@i} \cdot
        \operatorname{rel}_i

    where :math:`R` is the number of relevant documents in the qrels (not
    :math:`\min(R, k)`, and not the number retrieved) and :math:`k` is the length of the
    ranking when no cutoff is given.  Relevant documents that are never retrieved
    contribute precision 0.  The mean over queries is MAP.
    """
    column = m.depth - 1 if k is None else m.column(k)
    return _safe_div(m.cum_precision_at_rel[:, column], m.n_rel)


def average_precision_retrieved(m: RelevanceMatrix) -> FloatArray:
    r"""Average precision over the relevant documents *retrieved* -- a variant.

    .. math::

        \operatorname{AP_{retrieved}} = \frac{1}{|\{i : \operatorname{rel}_i = 1\}|}
        \sum_{i} \operatorname{P@i} \cdot \operatorname{rel}_i

    i.e. the mean of the precision values at the ranks of the relevant documents that
    were retrieved (0 if none was).  This is the "average of the precisions at each
    relevant document" found in some lecture notes; it ignores relevant documents the
    system missed, so it is *not* ``trec_eval``'s AP (:func:`average_precision`) and is
    never the default.
    """
    return _safe_div(m.cum_precision_at_rel[:, -1], m.cum_rel[:, -1])


def reciprocal_rank(m: RelevanceMatrix, k: int | None = None) -> FloatArray:
    r"""Reciprocal rank (``trec_eval`` ``recip_rank``), or RR at ``k``.

    .. math::

        \operatorname{RR@k} = \begin{cases}
            \frac{1}{\operatorname{rank}_1} & \text{if } \operatorname{rank}_1 \le k \\
            0 & \text{otherwise}
        \end{cases}

    where :math:`\operatorname{rank}_1` is the rank of the first relevant document
    (:math:`k = \infty` without a cutoff).  The mean over queries is MRR.
    ``trec_eval`` has no cutoff variant; ``RR@k`` matches ``ranx``'s ``mrr@k``.
    """
    first, found = m.first_rel
    if k is not None:
        found = found & (first < k)
    return np.where(found, 1.0 / (first + 1.0), 0.0)


def ndcg(m: RelevanceMatrix, k: int | None = None) -> FloatArray:
    r"""Normalised discounted cumulative gain at ``k`` (``trec_eval`` ``ndcg_cut_k``).

    .. math::

        \operatorname{DCG@k} = \sum_{i=1}^{k} \frac{g_i}{\log_2(i + 1)}, \qquad
        \operatorname{nDCG@k} = \frac{\operatorname{DCG@k}}{\operatorname{IDCG@k}}

    with linear gain :math:`g_i` = the qrels grade of the document at rank :math:`i` if
    it is relevant (grade :math:`\ge` threshold), else 0 -- ``trec_eval``'s gain, not
    the :math:`2^{g} - 1` of Burges et al.  :math:`\operatorname{IDCG@k}` is the DCG of
    the ideal ranking: all relevant qrels documents sorted by grade descending.  The
    value is 0 when :math:`\operatorname{IDCG@k} = 0`.  Without a cutoff this is
    ``trec_eval``'s ``ndcg`` over the whole ranking.

    ``trec_eval`` ignores the relevance level for nDCG (grades below it still earn their
    gain); for ``rel_threshold > 1`` this function and ``ranx`` give such documents no
    gain.  The two agree for the default threshold of 1.
    """
    dcg = np.cumsum(m.gains / np.log2(m.ranks + 1.0), axis=1)
    ideal_ranks = np.arange(2, m.ideal.shape[1] + 2, dtype=np.float64)
    idcg = np.cumsum(m.ideal / np.log2(ideal_ranks), axis=1)
    if k is None:
        return _safe_div(dcg[:, -1], idcg[:, -1])
    return _safe_div(dcg[:, m.column(k)], idcg[:, min(k, idcg.shape[1]) - 1])


def r_precision(m: RelevanceMatrix) -> FloatArray:
    r"""R-precision (``trec_eval`` ``Rprec``).

    .. math::

        \operatorname{R\text{-}prec} = \frac{\sum_{i=1}^{R} \operatorname{rel}_i}{R}

    i.e. precision at rank :math:`R`, the number of relevant documents in the qrels
    (equivalently recall at :math:`R`); 0 when :math:`R = 0`.
    """
    column = np.clip(m.n_rel, 1, m.depth) - 1
    hits = m.cum_rel[np.arange(len(m.qids)), column]
    return _safe_div(hits, m.n_rel)


def success(m: RelevanceMatrix, k: int) -> FloatArray:
    r"""Success at ``k`` (``trec_eval`` ``success_k``; "top-k retrieval accuracy" in DPR).

    .. math::

        \operatorname{success@k} = \begin{cases}
            1 & \text{if } \sum_{i=1}^{k} \operatorname{rel}_i > 0 \\
            0 & \text{otherwise}
        \end{cases}

    The mean over queries is the fraction of queries with at least one relevant
    document in the top :math:`k` (``ranx``'s ``hit_rate@k``).
    """
    return (m.cum_rel[:, m.column(k)] > 0).astype(np.float64)


def _compute(spec: MetricSpec, m: RelevanceMatrix) -> FloatArray:
    kind, k = spec.kind, spec.k
    if kind == "P":
        assert k is not None
        return precision(m, k)
    if kind == "R":
        assert k is not None
        return recall(m, k)
    if kind == "AP":
        return average_precision(m, k)
    if kind == "AP_retrieved":
        return average_precision_retrieved(m)
    if kind == "RR":
        return reciprocal_rank(m, k)
    if kind == "nDCG":
        return ndcg(m, k)
    if kind == "R-prec":
        return r_precision(m)
    if kind == "success":
        assert k is not None
        return success(m, k)
    raise AssertionError(f"unhandled metric kind {kind!r}")  # pragma: no cover


# --------------------------------------------------------------------------------------
# evaluate()
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalResult:
    """Result of :func:`evaluate`.

    :ivar means: metric name (as requested) -> mean over the evaluated queries
        (0.0 for every metric when ``n_queries == 0``).
    :ivar per_query: qid -> metric name -> value; filled only with
        ``per_query=True`` (else empty).  With ``missing_as_zero=True`` it includes the
        queries missing from the run, with zeros.
    :ivar n_queries: number of queries the means are taken over.
    :ivar n_missing: queries with judgements but absent from the run (counted as
        zeros only when ``missing_as_zero=True``).
    :ivar metrics: the metric names, in request order.
    """

    means: dict[str, float]
    per_query: dict[str, dict[str, float]]
    n_queries: int
    n_missing: int = 0
    metrics: tuple[str, ...] = ()


def _blocks(
    qids: Sequence[str], run: Mapping[str, Mapping[str, float]], min_depth: int
) -> Iterator[list[str]]:
    """Split ``qids`` into consecutive blocks whose matrix has at most ``_BLOCK_CELLS`` cells."""
    base = max(min_depth, 1)
    block: list[str] = []
    width = base
    for qid in qids:
        grown = max(width, len(run[qid]))
        if block and (len(block) + 1) * grown > _BLOCK_CELLS:
            yield block
            block, grown = [], max(base, len(run[qid]))
        block.append(qid)
        width = grown
    if block:
        yield block


def evaluate(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    rel_threshold: int = 1,
    missing_as_zero: bool = False,
    per_query: bool = False,
) -> EvalResult:
    """Evaluate a run against qrels with ``trec_eval`` conventions.

    See the module docstring for the conventions and each metric function for its
    formula.  Metric names: ``P@k``, ``R@k``, ``MAP``, ``AP@k``, ``MRR``, ``RR@k``,
    ``nDCG@k``, ``nDCG``, ``R-prec``, ``success@k``, ``AP_retrieved``
    (:func:`parse_metric`).  Results are keyed by the names exactly as given.

    :param qrels: ``qid -> docid -> grade``.
    :param run: ``qid -> docid -> score`` (higher is better).
    :param metrics: metric names (a single string is accepted too); duplicates are
        computed once.
    :param rel_threshold: minimum grade of a relevant document (``trec_eval -l``), >= 1.
    :param missing_as_zero: average over all queries of the qrels, queries absent from
        the run scoring 0 (``trec_eval -c``); by default only queries in both count.
    :param per_query: also return per-query values.
    :returns: an :class:`EvalResult`.  When no query is evaluated (empty run, empty
        qrels or disjoint query ids) the means are 0.0, ``n_queries`` is 0 and a
        :class:`RuntimeWarning` is issued.
    :raises ValueError: for an unknown metric name, an empty metric list,
        ``rel_threshold < 1`` or a NaN score.
    """
    names = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(metrics))
    if not names:
        raise ValueError(f"no metric requested; valid metrics are: {VALID_METRICS}")
    specs = {name: parse_metric(name) for name in names}
    if rel_threshold < 1:
        raise ValueError(f"rel_threshold must be >= 1, got {rel_threshold}")

    judged = {qid for qid, docs in qrels.items() if docs}
    evaluated = sorted(qid for qid in run if qid in judged)
    missing = sorted(judged.difference(run))

    cutoffs = [spec.k for spec in specs.values() if spec.k is not None]
    min_depth = max(cutoffs, default=1)
    ndcg_specs = [spec for spec in specs.values() if spec.kind == "nDCG"]
    ideal_depth = 0
    if ndcg_specs:
        ideal_depth = -1 if any(spec.k is None for spec in ndcg_specs) else max(s.k or 0 for s in ndcg_specs)

    values: dict[str, list[FloatArray]] = {name: [] for name in names}
    for block in _blocks(evaluated, run, min_depth):
        matrix = relevance_matrix(
            qrels, run, block, rel_threshold=rel_threshold, min_depth=min_depth, ideal_depth=ideal_depth
        )
        computed: dict[MetricSpec, FloatArray] = {}
        for name, spec in specs.items():
            if spec not in computed:
                computed[spec] = _compute(spec, matrix)
            values[name].append(computed[spec])

    qids = list(evaluated)
    if missing_as_zero:
        qids += missing
        for name in names:
            values[name].append(np.zeros(len(missing), dtype=np.float64))
    columns = {
        name: np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)
        for name, parts in values.items()
    }

    n_queries = len(qids)
    if n_queries == 0:
        warnings.warn(
            f"no query to evaluate ({len(run)} queries in the run, {len(judged)} judged queries in the "
            f"qrels, {len(evaluated)} in both); all means are 0.0",
            RuntimeWarning,
            stacklevel=2,
        )
    means = {name: float(col.mean()) if n_queries else 0.0 for name, col in columns.items()}
    per_query_values: dict[str, dict[str, float]] = {}
    if per_query:
        as_lists = {name: col.tolist() for name, col in columns.items()}
        per_query_values = {qid: {name: as_lists[name][i] for name in names} for i, qid in enumerate(qids)}
    return EvalResult(means, per_query_values, n_queries, len(missing), tuple(names))
