"""TREC run / qrels reading and writing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from odqa.eval.metrics import evaluate
from odqa.eval.trec import read_qrels, read_run, trec_order, write_run


def test_write_run_uses_trec_eval_order_and_round_trips(tmp_path: Path) -> None:
    run = {
        "q2": {"d1": 0.5, "d3": 2.0, "d2": 2.0, "d10": 2.0, "d9": -1e-300},
        "q1": {"x": 1 / 3, "y": float("inf")},
    }
    path = tmp_path / "run.trec"
    write_run(run, path, tag="bm25")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split()[0] for line in lines] == ["q1", "q1", "q2", "q2", "q2", "q2", "q2"]
    q2 = [line.split() for line in lines if line.startswith("q2 ")]
    # score descending, ties docid descending ("d3" > "d2" > "d10" as strings)
    assert [fields[2] for fields in q2] == ["d3", "d2", "d10", "d1", "d9"]
    assert [fields[3] for fields in q2] == ["1", "2", "3", "4", "5"]
    assert all(fields[1] == "Q0" and fields[5] == "bm25" for fields in q2)
    assert read_run(path) == run  # scores round-trip exactly
    assert [d for d, _ in trec_order(run["q2"])] == ["d3", "d2", "d10", "d1", "d9"]
    assert sorted(os.listdir(tmp_path)) == ["run.trec"]  # no temporary file left behind
    assert (path.stat().st_mode & 0o777) == 0o644


def test_write_run_is_atomic_on_error(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    path.write_text("previous content\n", encoding="utf-8")
    with pytest.raises(ValueError, match="NaN"):
        write_run({"q": {"a": 1.0, "b": float("nan")}}, path)
    with pytest.raises(ValueError, match="whitespace"):
        write_run({"q": {"a b": 1.0}}, path)
    with pytest.raises(ValueError, match="run tag"):
        write_run({"q": {"a": 1.0}}, path, tag="my run")
    assert path.read_text(encoding="utf-8") == "previous content\n"
    assert sorted(os.listdir(tmp_path)) == ["run.trec"]


def test_read_run_ignores_rank_column_like_trec_eval(tmp_path: Path) -> None:
    path = tmp_path / "run.txt"
    # ranks disagree with scores: trec_eval (and we) go by the scores
    path.write_text("q1 Q0 a 1 0.1 t\nq1 Q0 b 2 0.9 t\n\nq2 Q0 a 1 3 t\n", encoding="utf-8")
    run = read_run(path)
    assert run == {"q1": {"a": 0.1, "b": 0.9}, "q2": {"a": 3.0}}
    assert evaluate({"q1": {"b": 1}}, run, ["P@1"]).means["P@1"] == 1.0


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("q1 Q0 a 1 0.5 t\nq1 Q0 b 2 0.4\n", 2, "expected 6 fields"),
        ("q1 Q0 a one 0.5 t\n", 1, "rank 'one' is not an integer"),
        ("q1 Q0 a 1 high t\n", 1, "score 'high' is not a number"),
        ("q1 Q0 a 1 nan t\n", 1, "score is NaN"),
        ("q1 Q0 a 1 0.5 t\nq2 Q0 a 1 0.5 t\nq1 Q0 a 2 0.4 t\n", 3, "duplicate document 'a'"),
    ],
)
def test_read_run_errors_name_file_and_line(tmp_path: Path, content: str, line: int, reason: str) -> None:
    path = tmp_path / "bad.run"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_run(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert reason in str(info.value)


def test_read_qrels_trec(tmp_path: Path) -> None:
    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 a 2\nq1 0 b 0\n  q2\t0   c -1  \n\n", encoding="utf-8")
    assert read_qrels(path) == {"q1": {"a": 2, "b": 0}, "q2": {"c": -1}}


def test_read_qrels_beir(tmp_path: Path) -> None:
    path = tmp_path / "test.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\tdoc 1\t1\nq1\td2\t0\nq2\td3\t2\n", encoding="utf-8")
    # BEIR is tab separated: a docid may contain a space
    assert read_qrels(path) == {"q1": {"doc 1": 1, "d2": 0}, "q2": {"d3": 2}}


def test_read_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_text("\n\n", encoding="utf-8")
    assert read_qrels(path) == {}
    assert read_run(path) == {}


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        ("q1 0 a 1\nq1 0 b\n", 2, "expected 4 fields"),
        ("q1 a 1\n", 1, "BEIR tsv file needs the header"),
        ("q1 0 a 1.5\n", 1, "grade '1.5' is not an integer"),
        ("q1 0 a 1\nq1 0 a 0\n", 2, "duplicate judgement of document 'a'"),
        ("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1 d2 1\n", 3, "expected 3 tab-separated fields"),
        ("query-id\tcorpus-id\tscore\nq1\td1\tyes\n", 2, "grade 'yes' is not an integer"),
        ("query-id\tcorpus-id\tscore\n\td1\t1\n", 2, "empty query-id or corpus-id"),
    ],
)
def test_read_qrels_errors_name_file_and_line(tmp_path: Path, content: str, line: int, reason: str) -> None:
    path = tmp_path / "bad.qrels"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_qrels(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert reason in str(info.value)


def test_written_run_evaluates_like_pytrec_eval(tmp_path: Path) -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    qrels = {"q1": {"a": 1, "b": 2, "c": 0}, "q2": {"x": 1}}
    run = {"q1": {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.0}, "q2": {"y": 5.0, "x": 5.0}}
    path = tmp_path / "run.trec"
    write_run(run, path)
    with path.open(encoding="utf-8") as handle:
        parsed = pytrec_eval.parse_run(handle)
    reference = pytrec_eval.RelevanceEvaluator(qrels, {"map", "ndcg_cut.3"}).evaluate(parsed)
    ours = evaluate(qrels, read_run(path), ["MAP", "nDCG@3"], per_query=True)
    for qid, values in reference.items():
        assert ours.per_query[qid]["MAP"] == pytest.approx(values["map"], abs=1e-12)
        assert ours.per_query[qid]["nDCG@3"] == pytest.approx(values["ndcg_cut_3"], abs=1e-12)
