r"""Paired significance tests between two systems evaluated on the same queries.

Two tests on the per-query values of one metric, paired by query id:

* :func:`randomization_test` -- the paired (sign-flip) randomization test of Fisher, as
  recommended for IR by Smucker, Allan and Carterette (CIKM 2007).  Under the null hypothesis
  the two systems are exchangeable on every query, so each per-query difference
  :math:`d_i = a_i - b_i` is equally likely to have either sign.  The statistic is
  :math:`|\bar d|`; the two-sided p-value is the fraction of the :math:`2^n` sign assignments
  whose :math:`|\bar d^*|` is at least the observed one.  It is computed exactly when
  :math:`2^n` is at most the number of permutations asked for, otherwise estimated from that
  many random sign vectors (seeded, so results are reproducible) as
  :math:`(c + 1) / (N + 1)`, which never returns 0.
* :func:`paired_t_test` -- Student's paired t-test (:func:`scipy.stats.ttest_rel`), two-sided.

:func:`compare_runs` evaluates two runs against qrels and applies both tests to every metric.

This module imports nothing from :mod:`odqa` except :mod:`odqa.eval.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from odqa.eval.metrics import DEFAULT_METRICS, evaluate

__all__ = [
    "DEFAULT_PERMUTATIONS",
    "MetricComparison",
    "compare_per_query",
    "compare_runs",
    "paired_t_test",
    "randomization_test",
]

DEFAULT_PERMUTATIONS = 10_000
"""Random sign vectors drawn by :func:`randomization_test` when the exact test is too large."""

# Relative tolerance when comparing permuted statistics with the observed one: sums of the
# same numbers in another order may differ in the last bits.
_TIE_EPS = 1e-12
_BLOCK = 2_000  # sign vectors per block (bounds memory to a few MB per block)


def _differences(a: Sequence[float] | npt.ArrayLike, b: Sequence[float] | npt.ArrayLike) -> np.ndarray:
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired samples must be 1-D and of equal length, got {x.shape} and {y.shape}")
    if np.isnan(x).any() or np.isnan(y).any():
        raise ValueError("paired samples contain NaN")
    return x - y


def randomization_test(
    a: Sequence[float] | npt.ArrayLike,
    b: Sequence[float] | npt.ArrayLike,
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> float:
    r"""Two-sided paired randomization (sign-flip) test of :math:`\operatorname{mean}(a - b) = 0`.

    :param a: per-query values of system A.
    :param b: per-query values of system B, same queries in the same order.
    :param n_permutations: random sign vectors to draw; when :math:`2^n \le` this number all
        :math:`2^n` sign vectors are enumerated and the p-value is exact.
    :param seed: seed of the random generator (:func:`numpy.random.default_rng`).
    :returns: the p-value in ``(0, 1]``; 1.0 when there are no pairs or all differences are 0.
    :raises ValueError: for samples of different lengths, NaN values or ``n_permutations < 1``.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    d = _differences(a, b)
    n = d.size
    if n == 0 or not np.any(d):
        return 1.0
    observed = abs(float(d.sum()))
    threshold = observed - _TIE_EPS * max(1.0, observed)
    if n <= 62 and 2**n <= n_permutations:
        # Exact: every sign vector once.  Bit j of the row index gives the sign of d_j.
        rows = np.arange(2**n, dtype=np.int64)[:, None]
        signs = 1.0 - 2.0 * ((rows >> np.arange(n, dtype=np.int64)) & 1)
        return float(np.mean(np.abs(signs @ d) >= threshold))
    rng = np.random.default_rng(seed)
    count = 0
    done = 0
    while done < n_permutations:
        size = min(_BLOCK, n_permutations - done)
        signs = rng.integers(0, 2, size=(size, n), dtype=np.int8).astype(np.float64) * 2.0 - 1.0
        count += int(np.count_nonzero(np.abs(signs @ d) >= threshold))
        done += size
    return (count + 1) / (n_permutations + 1)


def paired_t_test(a: Sequence[float] | npt.ArrayLike, b: Sequence[float] | npt.ArrayLike) -> float:
    r"""Two-sided paired Student's t-test (:func:`scipy.stats.ttest_rel`).

    .. math::

        t = \frac{\bar d}{s_d / \sqrt{n}}, \qquad \text{df} = n - 1

    :returns: the p-value; 1.0 when all differences are equal to 0, and NaN when it is undefined
        (fewer than 2 pairs, or constant non-zero differences).
    :raises ValueError: for samples of different lengths or NaN values.
    """
    d = _differences(a, b)
    if d.size and not np.any(d):
        return 1.0
    if d.size < 2 or np.all(d == d[0]):
        return math.nan
    from scipy import stats

    return float(stats.ttest_rel(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)).pvalue)


@dataclass(frozen=True)
class MetricComparison:
    """One metric compared between a system A and a baseline B on the same queries.

    :ivar metric: the metric name.
    :ivar n: number of paired queries.
    :ivar mean_a: mean of A over the paired queries.
    :ivar mean_b: mean of B over the paired queries.
    :ivar delta: ``mean_a - mean_b``.
    :ivar p_randomization: p-value of :func:`randomization_test`.
    :ivar p_ttest: p-value of :func:`paired_t_test` (NaN when undefined).
    :ivar wins: queries where A is better; :ivar losses: where B is better; ``n - wins - losses``
        are ties.
    """

    metric: str
    n: int
    mean_a: float
    mean_b: float
    delta: float
    p_randomization: float
    p_ttest: float
    wins: int
    losses: int

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the randomization test rejects equality at level ``alpha``."""
        return self.p_randomization < alpha

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN p-values become ``None``)."""
        out = asdict(self)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def compare_per_query(
    per_query_a: Mapping[str, Mapping[str, float]],
    per_query_b: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str],
    *,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> list[MetricComparison]:
    """Compare two systems from their per-query values (``qid -> metric -> value``).

    Queries are paired by id; only queries present in both (and having the metric in both)
    count.

    :returns: one :class:`MetricComparison` per metric, in order.
    """
    out: list[MetricComparison] = []
    for metric in metrics:
        qids = sorted(
            q
            for q in per_query_a
            if q in per_query_b and metric in per_query_a[q] and metric in per_query_b[q]
        )
        a = np.array([per_query_a[q][metric] for q in qids], dtype=np.float64)
        b = np.array([per_query_b[q][metric] for q in qids], dtype=np.float64)
        mean_a = float(a.mean()) if qids else 0.0
        mean_b = float(b.mean()) if qids else 0.0
        out.append(
            MetricComparison(
                metric=metric,
                n=len(qids),
                mean_a=mean_a,
                mean_b=mean_b,
                delta=mean_a - mean_b,
                p_randomization=randomization_test(a, b, n_permutations=n_permutations, seed=seed),
                p_ttest=paired_t_test(a, b),
                wins=int(np.count_nonzero(a > b)),
                losses=int(np.count_nonzero(a < b)),
            )
        )
    return out


def compare_runs(
    qrels: Mapping[str, Mapping[str, int]],
    run_a: Mapping[str, Mapping[str, float]],
    run_b: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = DEFAULT_METRICS,
    *,
    rel_threshold: int = 1,
    missing_as_zero: bool = False,
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> list[MetricComparison]:
    """Evaluate two runs with :func:`odqa.eval.metrics.evaluate` and test every metric.

    By default a query is paired when both runs evaluate it (it is judged and in both runs);
    with ``missing_as_zero`` every judged query counts, scoring 0 in a run that lacks it.

    :returns: one :class:`MetricComparison` per metric (A = ``run_a``, baseline = ``run_b``).
    """
    names = list(dict.fromkeys([metrics] if isinstance(metrics, str) else metrics))
    kwargs: dict[str, Any] = {
        "rel_threshold": rel_threshold,
        "missing_as_zero": missing_as_zero,
        "per_query": True,
    }
    per_a = evaluate(qrels, run_a, names, **kwargs).per_query
    per_b = evaluate(qrels, run_b, names, **kwargs).per_query
    return compare_per_query(per_a, per_b, names, n_permutations=n_permutations, seed=seed)
