"""Paired significance tests: the worked example, scipy cross-checks, Monte Carlo accuracy."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from odqa.eval.significance import compare_per_query, compare_runs, paired_t_test, randomization_test
from odqa.eval.trec import read_qrels, read_run

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "paired_significance"


def scipy_exact_p(a: np.ndarray, b: np.ndarray) -> float:
    """scipy's exact paired permutation test on the mean difference (two-sided)."""
    res = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf,
        alternative="two-sided",
    )
    return float(res.pvalue)


def test_worked_example_figures() -> None:
    qrels = read_qrels(SEEDS / "qrels.txt")
    run_a, run_b = read_run(SEEDS / "run_a.txt"), read_run(SEEDS / "run_b.txt")
    comps = {c.metric: c for c in compare_runs(qrels, run_a, run_b, ["MRR", "P@1", "nDCG@10"])}
    mrr = comps["MRR"]
    assert (mrr.n, mrr.wins, mrr.losses) == (8, 6, 2)
    assert mrr.mean_a == pytest.approx(0.875) and mrr.mean_b == pytest.approx(0.625)
    assert mrr.delta == pytest.approx(0.25)
    for c in comps.values():
        assert c.p_randomization == pytest.approx(74 / 256, abs=1e-15)  # exact: 2^8 <= 10,000
        assert c.p_ttest == pytest.approx(0.1704707, abs=1e-7)
        assert not c.significant(0.05)


def test_exact_mode_matches_scipy_permutation_test() -> None:
    rng = np.random.default_rng(7)
    for n in (3, 6, 9, 12):
        a = rng.random(n).round(2)
        b = (a + rng.normal(0.1, 0.2, n)).round(2)
        assert randomization_test(a, b, n_permutations=2**n) == pytest.approx(scipy_exact_p(a, b), abs=1e-12)


def test_monte_carlo_is_close_to_exact_and_reproducible() -> None:
    rng = np.random.default_rng(3)
    a = rng.random(16)
    b = a - rng.normal(0.08, 0.2, 16)
    exact = randomization_test(a, b, n_permutations=2**16)
    assert exact == pytest.approx(scipy_exact_p(a, b), abs=1e-12)
    mc = randomization_test(a, b, n_permutations=10_000, seed=1)
    # standard error of a proportion near p with 10,000 draws is below 0.005
    assert abs(mc - exact) < 0.02
    assert randomization_test(a, b, n_permutations=10_000, seed=1) == mc  # seeded
    assert randomization_test(b, a, n_permutations=10_000, seed=1) == mc  # two-sided: symmetric


def test_extremes() -> None:
    a = np.linspace(0.5, 0.9, 40)
    assert randomization_test(a, a) == 1.0
    assert paired_t_test(a, a) == 1.0
    assert randomization_test([], []) == 1.0
    # A better on all 40 queries: never a sign vector as extreme except the 2 trivial ones
    p = randomization_test(a, a - 0.1, n_permutations=10_000)
    assert p == pytest.approx(1 / 10_001)  # (0 + 1) / (N + 1): Monte Carlo never returns 0
    assert math.isnan(paired_t_test(a, a - 0.1))  # constant non-zero differences: t undefined
    assert math.isnan(paired_t_test([1.0], [0.0]))


def test_t_test_matches_the_formula() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.random(25), rng.random(25)
    d = a - b
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    assert paired_t_test(a, b) == pytest.approx(2 * stats.t.sf(abs(t), d.size - 1), rel=1e-10)


def test_input_errors() -> None:
    with pytest.raises(ValueError, match="equal length"):
        randomization_test([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        paired_t_test([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError, match="n_permutations"):
        randomization_test([1.0], [0.0], n_permutations=0)


def test_compare_per_query_pairs_by_query_id() -> None:
    a = {"q1": {"m": 1.0}, "q2": {"m": 0.5}, "q3": {"m": 0.0}}
    b = {"q2": {"m": 0.25}, "q1": {"m": 0.0}, "q9": {"m": 1.0}}
    (c,) = compare_per_query(a, b, ["m"])
    assert c.n == 2 and c.mean_a == pytest.approx(0.75) and c.mean_b == pytest.approx(0.125)
    assert c.p_randomization == pytest.approx(scipy_exact_p(np.array([1.0, 0.5]), np.array([0.0, 0.25])))
    assert c.to_dict()["metric"] == "m"
