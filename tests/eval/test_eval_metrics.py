"""Retrieval metrics: cross-checked against pytrec_eval (trec_eval 9) and ranx."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from odqa.eval import metrics as metrics_module
from odqa.eval.metrics import EvalResult, MetricSpec, evaluate, parse_metric
from odqa.eval.trec import Qrels, Run, read_qrels, read_run, trec_order

pytrec_eval = pytest.importorskip("pytrec_eval")

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds" / "ranked_list_example"
TOL = 1e-9
CUTOFFS = (1, 3, 5, 10, 20, 100)

# Our metric name -> pytrec_eval measure key (per-query output name).
PYTREC_NAMES: dict[str, str] = {
    **{f"P@{k}": f"P_{k}" for k in CUTOFFS},
    **{f"R@{k}": f"recall_{k}" for k in CUTOFFS},
    **{f"AP@{k}": f"map_cut_{k}" for k in CUTOFFS},
    **{f"nDCG@{k}": f"ndcg_cut_{k}" for k in CUTOFFS},
    **{f"success@{k}": f"success_{k}" for k in CUTOFFS},
    "MAP": "map",
    "MRR": "recip_rank",
    "R-prec": "Rprec",
    "nDCG": "ndcg",
}
_CUT = ",".join(map(str, CUTOFFS))
PYTREC_MEASURES = {
    f"P.{_CUT}",
    f"recall.{_CUT}",
    f"map_cut.{_CUT}",
    f"ndcg_cut.{_CUT}",
    f"success.{_CUT}",
    "map",
    "recip_rank",
    "Rprec",
    "ndcg",
}


def random_collection(seed: int, n_queries: int = 40) -> tuple[Qrels, Run]:
    """Random graded qrels and a run with the awkward cases trec_eval has to handle.

    * grades 0..3, and documents retrieved that were never judged;
    * heavily tied scores (a handful of distinct values), docids of varying length so
      that the docid tie-break is exercised;
    * queries in the qrels but not in the run, in the run but not in the qrels;
    * queries with an empty result list, queries with judgements but no relevant doc;
    * result lists shorter and longer than the cutoffs.
    """
    rng = random.Random(seed)
    qrels: Qrels = {}
    run: Run = {}
    for q in range(n_queries):
        qid = f"q{q}"
        pool = [f"d{rng.randint(0, 300)}" for _ in range(200)]
        pool = list(dict.fromkeys(pool))
        judged = rng.sample(pool, rng.randint(1, min(40, len(pool))))
        case = rng.random()
        if case < 0.1:
            grades = dict.fromkeys(judged, 0)  # judged, but nothing relevant
        else:
            grades = {d: rng.choice((0, 0, 0, 1, 1, 2, 3)) for d in judged}
        if rng.random() > 0.1:  # ~10% of the queries: in the run only
            qrels[qid] = grades
        if rng.random() < 0.1:  # ~10%: in the qrels only
            continue
        if rng.random() < 0.07:
            run[qid] = {}
            continue
        n_ret = rng.choice((0, 1, 3, 8, 15, 40, 120))
        retrieved = rng.sample(pool, min(n_ret, len(pool)))
        levels = rng.choice((3, 5, 50))
        run[qid] = {d: float(rng.randint(0, levels)) / 7.0 for d in retrieved}
    return qrels, run


def pytrec_per_query(qrels: Qrels, run: Run, relevance_level: int = 1) -> dict[str, dict[str, float]]:
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, PYTREC_MEASURES, relevance_level=relevance_level)
    return evaluator.evaluate(run)


def assert_matches_pytrec(
    result: EvalResult, reference: dict[str, dict[str, float]], names: list[str], *, where: str = ""
) -> None:
    assert set(result.per_query) == set(reference), where
    for qid, values in reference.items():
        for name in names:
            ours = result.per_query[qid][name]
            theirs = values[PYTREC_NAMES[name]]
            assert math.isclose(ours, theirs, rel_tol=0, abs_tol=TOL), (
                f"{where} {qid} {name}: {ours} != {theirs}"
            )
    for name in names:
        expected = sum(v[PYTREC_NAMES[name]] for v in reference.values()) / len(reference)
        assert math.isclose(result.means[name], expected, rel_tol=0, abs_tol=TOL), f"{where} mean {name}"


# --------------------------------------------------------------------------------------
# pytrec_eval
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_matches_pytrec_eval_on_random_runs(seed: int) -> None:
    qrels, run = random_collection(seed)
    names = list(PYTREC_NAMES)
    result = evaluate(qrels, run, names, per_query=True)
    reference = pytrec_per_query(qrels, run)
    assert result.n_queries == len(reference) == len(set(qrels) & set(run))
    assert result.n_missing == len(set(qrels) - set(run))
    assert_matches_pytrec(result, reference, names, where=f"seed {seed}")


@pytest.mark.parametrize("seed", range(3))
def test_matches_pytrec_eval_with_rel_threshold_2(seed: int) -> None:
    qrels, run = random_collection(100 + seed)
    names = [n for n in PYTREC_NAMES if not n.startswith("nDCG")]
    result = evaluate(qrels, run, names, rel_threshold=2, per_query=True)
    assert_matches_pytrec(result, pytrec_per_query(qrels, run, relevance_level=2), names)

    # nDCG: trec_eval ignores the relevance level (grade 1 still earns gain 1).  Ours gives
    # no gain below the threshold, which is trec_eval on qrels with those grades zeroed.
    ndcg_names = [n for n in PYTREC_NAMES if n.startswith("nDCG")]
    ours = evaluate(qrels, run, ndcg_names, rel_threshold=2, per_query=True)
    zeroed = {q: {d: (g if g >= 2 else 0) for d, g in docs.items()} for q, docs in qrels.items()}
    assert_matches_pytrec(ours, pytrec_per_query(zeroed, run, relevance_level=2), ndcg_names)


def test_ndcg_rel_threshold_differs_from_trec_eval_as_documented() -> None:
    qrels = {"q": {"a": 2, "b": 1}}
    run = {"q": {"b": 2.0, "a": 1.0}}
    trec = pytrec_per_query(qrels, run, relevance_level=2)["q"]["ndcg_cut_10"]
    ours = evaluate(qrels, run, ["nDCG@10"], rel_threshold=2).means["nDCG@10"]
    # trec_eval: DCG = 1 + 2/log2(3), IDCG = 2 + 1/log2(3).  Ours: DCG = 2/log2(3), IDCG = 2.
    assert trec == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert ours == pytest.approx(1 / math.log2(3))


def test_missing_as_zero_is_trec_eval_c() -> None:
    qrels, run = random_collection(7)
    names = list(PYTREC_NAMES)
    reference = pytrec_per_query(qrels, run)  # per-query values, queries in both
    judged = [q for q, docs in qrels.items() if docs]
    result = evaluate(qrels, run, names, missing_as_zero=True, per_query=True)
    missing = set(judged) - set(run)
    assert missing, "the fixture must have queries missing from the run"
    assert result.n_queries == len(judged)
    assert result.n_missing == len(missing)
    for name in names:
        by_hand = sum(v[PYTREC_NAMES[name]] for v in reference.values()) / len(judged)
        assert math.isclose(result.means[name], by_hand, abs_tol=TOL), name
    for qid in missing:
        assert all(v == 0.0 for v in result.per_query[qid].values())
    # The default averages over queries in both only.
    default = evaluate(qrels, run, ["MAP"])
    assert default.n_queries == len(reference)
    assert default.means["MAP"] > result.means["MAP"]


def test_ties_are_broken_by_docid_descending() -> None:
    qrels = {"q": {"a": 1, "c": 1}}
    run = {"q": {"a": 1.0, "b": 1.0, "c": 1.0, "z": 0.5}}
    # trec_eval order: c, b, a, z
    assert [d for d, _ in trec_order(run["q"])] == ["c", "b", "a", "z"]
    result = evaluate(qrels, run, ["P@1", "P@2", "MRR", "MAP"], per_query=True)
    assert result.means == pytest.approx({"P@1": 1.0, "P@2": 0.5, "MRR": 1.0, "MAP": (1 + 2 / 3) / 2})
    reference = pytrec_per_query(qrels, run)["q"]
    assert reference["P_1"] == 1.0 and reference["map"] == pytest.approx(result.means["MAP"])
    # Docids compare as strings, not numbers: "10" < "9".
    run2 = {"q": {"9": 1.0, "10": 1.0}}
    assert [d for d, _ in trec_order(run2["q"])] == ["9", "10"]
    res2 = evaluate({"q": {"10": 1}}, run2, ["MRR"]).means["MRR"]
    assert res2 == pytrec_per_query({"q": {"10": 1}}, run2)["q"]["recip_rank"] == 0.5


def test_tie_break_on_non_ascii_docids_matches_strcmp() -> None:
    docids = ["z", "é", "e", "ü-1", "Z", "zz", "日本", "a b", "\u00e9a", "10", "9"]
    rng = random.Random(5)
    qrels = {f"q{i}": {d: rng.choice((0, 1, 2)) for d in docids} for i in range(20)}
    run = {q: {d: float(rng.randint(0, 2)) for d in rng.sample(docids, 8)} for q in qrels}
    names = ["P@1", "P@3", "MRR", "MAP", "nDCG@5"]
    assert_matches_pytrec(evaluate(qrels, run, names, per_query=True), pytrec_per_query(qrels, run), names)


def test_queries_without_relevant_documents_count_as_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"a": 0, "b": 0}}
    run = {"q1": {"a": 1.0}, "q2": {"a": 1.0, "b": 0.5}}
    reference = pytrec_per_query(qrels, run)
    assert set(reference) == {"q1", "q2"}  # pytrec_eval does not skip q2 ...
    assert reference["q2"]["map"] == 0.0
    result = evaluate(qrels, run, ["MAP", "P@1", "nDCG@10"], per_query=True)
    assert result.n_queries == 2  # ... and neither do we
    assert result.means == {"MAP": 0.5, "P@1": 0.5, "nDCG@10": 0.5}


def test_empty_result_list_is_evaluated_as_zero() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"a": 1}}
    run: Run = {"q1": {"a": 1.0}, "q2": {}}
    result = evaluate(qrels, run, ["P@5", "MAP", "R-prec", "nDCG@10", "success@1"], per_query=True)
    assert result.n_queries == 2
    assert all(v == 0.0 for v in result.per_query["q2"].values())
    assert_matches_pytrec(
        evaluate(qrels, run, ["P@5", "MAP", "R-prec"], per_query=True),
        pytrec_per_query(qrels, run),
        ["P@5", "MAP", "R-prec"],
    )


# --------------------------------------------------------------------------------------
# Worked example (seeds/ranked_list_example)
# --------------------------------------------------------------------------------------
def test_ranked_list_example() -> None:
    qrels = read_qrels(SEEDS_DIR / "qrels.txt")
    run = read_run(SEEDS_DIR / "run.txt")
    names = [f"P@{k}" for k in range(1, 11)] + ["R@10", "MAP", "AP_retrieved", "R-prec", "MRR", "nDCG@10"]
    result = evaluate(qrels, run, names)
    means = result.means
    assert result.n_queries == 1
    expected_p = [1 / 1, 1 / 2, 2 / 3, 2 / 4, 3 / 5, 4 / 6, 4 / 7, 5 / 8, 5 / 9, 5 / 10]
    assert [means[f"P@{k}"] for k in range(1, 11)] == pytest.approx(expected_p, abs=1e-12)
    figures = [1.0, 0.50, 0.67, 0.50, 0.60, 0.67, 0.57, 0.63, 0.56, 0.50]  # as in the README
    assert [means[f"P@{k}"] for k in range(1, 11)] == pytest.approx(figures, abs=0.0051)
    precisions_at_rel = [1, 2 / 3, 3 / 5, 4 / 6, 5 / 8]
    assert means["R@10"] == pytest.approx(5 / 9)
    assert means["AP_retrieved"] == pytest.approx(sum(precisions_at_rel) / 5)
    assert round(means["AP_retrieved"], 2) == 0.71
    assert means["MAP"] == pytest.approx(sum(precisions_at_rel) / 9)
    assert round(means["MAP"], 3) == 0.395
    assert means["R-prec"] == pytest.approx(5 / 9)
    assert means["MRR"] == 1.0
    dcg = sum(1 / math.log2(r + 1) for r in (1, 3, 5, 6, 8))
    idcg = sum(1 / math.log2(r + 1) for r in range(1, 10))
    assert means["nDCG@10"] == pytest.approx(dcg / idcg)
    assert round(means["nDCG@10"], 3) == 0.601
    # and trec_eval agrees
    reference = pytrec_per_query(qrels, run)["Q1"]
    assert reference["map"] == pytest.approx(means["MAP"])
    assert reference["P_10"] == pytest.approx(0.5)


# --------------------------------------------------------------------------------------
# ranx
# --------------------------------------------------------------------------------------
RANX_NAMES: dict[str, str] = {
    **{f"P@{k}": f"precision@{k}" for k in CUTOFFS},
    **{f"R@{k}": f"recall@{k}" for k in CUTOFFS},
    **{f"AP@{k}": f"map@{k}" for k in CUTOFFS},
    **{f"RR@{k}": f"mrr@{k}" for k in CUTOFFS},
    **{f"nDCG@{k}": f"ndcg@{k}" for k in CUTOFFS},
    **{f"success@{k}": f"hit_rate@{k}" for k in CUTOFFS},
    "MAP": "map",
    "MRR": "mrr",
    "R-prec": "r-precision",
}


def untied(run: Run) -> Run:
    """The same rankings (trec_eval order) with distinct scores.

    ranx orders tied scores by insertion order, not by docid, so it is compared on runs
    whose scores encode the trec_eval ranking without ties.
    """
    return {
        q: {d: float(len(docs) - i) for i, (d, _) in enumerate(trec_order(docs))} for q, docs in run.items()
    }


@pytest.mark.filterwarnings("ignore::Warning:ranx")  # numba: "unsafe cast from uint64 to int64" of doc hashes
@pytest.mark.parametrize(("seed", "threshold"), [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_matches_ranx(seed: int, threshold: int) -> None:
    ranx = pytest.importorskip("ranx")
    qrels, run = random_collection(200 + seed)
    # ranx needs identical query ids and non-empty result lists.
    qids = sorted(q for q in set(qrels) & set(run) if run[q] and qrels[q])
    qrels_c = {q: qrels[q] for q in qids}
    run_c = untied({q: run[q] for q in qids})
    suffix = "" if threshold == 1 else f"-l{threshold}"
    ranx_metrics = [name + suffix for name in RANX_NAMES.values()]
    reference = ranx.evaluate(qrels_c, run_c, ranx_metrics, return_mean=False, threads=1)
    names = list(RANX_NAMES)
    ours = evaluate(qrels_c, run_c, names, rel_threshold=threshold, per_query=True)
    # Ties broken the trec_eval way give the same values as the untied run.
    assert evaluate(
        qrels_c, {q: run[q] for q in qids}, names, rel_threshold=threshold
    ).means == pytest.approx(ours.means, abs=TOL)
    for name, ranx_name in RANX_NAMES.items():
        theirs = np.asarray(reference[ranx_name + suffix])
        mine = np.array([ours.per_query[q][name] for q in qids])
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=TOL, err_msg=name)
        assert math.isclose(ours.means[name], float(theirs.mean()), abs_tol=TOL), name


def test_ranx_breaks_ties_differently_as_documented() -> None:
    ranx = pytest.importorskip("ranx")
    qrels = {"q": {"a": 1}}
    run = {"q": {"b": 1.0, "a": 1.0}}  # trec_eval: b (larger docid) first
    assert evaluate(qrels, run, ["P@1"]).means["P@1"] == 0.0
    assert pytrec_per_query(qrels, run)["q"]["P_1"] == 0.0
    assert ranx.evaluate(qrels, run, "precision@1", threads=1) == 1.0


# --------------------------------------------------------------------------------------
# API behaviour
# --------------------------------------------------------------------------------------
def test_parse_metric_names_and_aliases() -> None:
    assert parse_metric("P@5") == MetricSpec("P", 5)
    assert parse_metric("ndcg@10") == MetricSpec("nDCG", 10)
    assert parse_metric("MAP") == parse_metric("AP") == MetricSpec("AP")
    assert parse_metric("MAP@10") == parse_metric("AP@10") == MetricSpec("AP", 10)
    assert parse_metric("MRR") == parse_metric("rr") == MetricSpec("RR")
    assert parse_metric("MRR@10").canonical == "RR@10"
    assert parse_metric("R-prec") == parse_metric("Rprec") == MetricSpec("R-prec")
    assert parse_metric("success@20").canonical == "success@20"
    assert parse_metric("AP_retrieved").canonical == "AP_retrieved"
    assert parse_metric("MAP").canonical == "MAP"


@pytest.mark.parametrize(
    "bad", ["P", "P@0", "P@-1", "P@x", "recall@5", "AP_retrieved@5", "R-prec@3", "", "nDCG@"]
)
def test_unknown_metric_lists_valid_ones(bad: str) -> None:
    with pytest.raises(ValueError, match=r"valid metrics are: P@k, R@k, MAP"):
        evaluate({"q": {"a": 1}}, {"q": {"a": 1.0}}, [bad])


def test_results_keyed_by_requested_names() -> None:
    result = evaluate({"q": {"a": 1}}, {"q": {"a": 1.0}}, ["ndcg@10", "P@1", "ndcg@10"])
    assert result.metrics == ("ndcg@10", "P@1")
    assert result.means == {"ndcg@10": 1.0, "P@1": 1.0}
    assert result.per_query == {}
    single = evaluate({"q": {"a": 1}}, {"q": {"a": 1.0}}, "MRR", per_query=True)
    assert single.means == {"MRR": 1.0} and single.per_query == {"q": {"MRR": 1.0}}


def test_empty_run_and_empty_qrels_do_not_crash() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 2}}
    with pytest.warns(RuntimeWarning, match="no query to evaluate"):
        result = evaluate(qrels, {}, ["P@5", "MAP", "nDCG@10"], per_query=True)
    assert result.n_queries == 0 and result.n_missing == 2
    assert result.means == {"P@5": 0.0, "MAP": 0.0, "nDCG@10": 0.0} and result.per_query == {}

    with pytest.warns(RuntimeWarning):
        result = evaluate({}, {"q1": {"a": 1.0}}, ["MAP"])
    assert result.n_queries == 0 and result.means == {"MAP": 0.0}

    with pytest.warns(RuntimeWarning):
        assert evaluate({}, {}, ["MAP"]).n_queries == 0

    # -c with an empty run: every judged query counts, as zero
    result = evaluate(qrels, {}, ["MAP"], missing_as_zero=True, per_query=True)
    assert result.n_queries == 2 and result.means == {"MAP": 0.0}
    assert result.per_query == {"q1": {"MAP": 0.0}, "q2": {"MAP": 0.0}}

    # a query whose judgement dict is empty has no judgements: not evaluated
    with pytest.warns(RuntimeWarning):
        assert evaluate({"q": {}}, {"q": {"a": 1.0}}, ["MAP"]).n_queries == 0


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="rel_threshold"):
        evaluate({"q": {"a": 1}}, {"q": {"a": 1.0}}, ["MAP"], rel_threshold=0)
    with pytest.raises(ValueError, match="no metric"):
        evaluate({"q": {"a": 1}}, {"q": {"a": 1.0}}, [])
    with pytest.raises(ValueError, match="NaN"):
        evaluate({"q": {"a": 1}}, {"q": {"a": float("nan")}}, ["MAP"])


def test_blocks_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    qrels, run = random_collection(11)
    names = [*PYTREC_NAMES, "AP_retrieved", "RR@5"]
    whole = evaluate(qrels, run, names, per_query=True)
    monkeypatch.setattr(metrics_module, "_BLOCK_CELLS", 150)
    blocked = evaluate(qrels, run, names, per_query=True)
    assert blocked.per_query == whole.per_query
    assert blocked.means == pytest.approx(whole.means, abs=1e-12)


def test_ap_retrieved_is_a_variant() -> None:
    qrels = {"q": {"a": 1, "b": 1, "c": 1}}
    run = {"q": {"a": 3.0, "x": 2.0, "b": 1.0}}
    means = evaluate(qrels, run, ["MAP", "AP_retrieved"]).means
    assert means["AP_retrieved"] == pytest.approx((1 + 2 / 3) / 2)
    assert means["MAP"] == pytest.approx((1 + 2 / 3) / 3)
    assert evaluate(qrels, {"q": {"x": 1.0}}, ["AP_retrieved"]).means["AP_retrieved"] == 0.0
