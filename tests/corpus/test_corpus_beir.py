"""BEIR corpus, queries and qrels readers, on the shared data and on hand-made malformed files."""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from pathlib import Path

import pytest

from odqa.corpus import (
    IngestError,
    Problem,
    SourceDocument,
    load_beir,
    read_beir_corpus,
    read_beir_queries,
    read_qrels,
)

# --- real data -------------------------------------------------------------------------------


def test_scifact_corpus(scifact_dir: Path, problems: list[Problem]) -> None:
    docs = list(read_beir_corpus(scifact_dir, on_problem=problems.append, progress=False))
    assert len(docs) == 5183
    assert problems == []
    assert len({d.doc_id for d in docs}) == 5183
    first = docs[0]
    assert first.doc_id == "4983"
    assert first.title.startswith("Microstructural development of human newborn cerebral white matter")
    assert first.text.startswith("Alterations of the architecture of cerebral white matter")
    assert first.meta == {}


def test_scifact_train_split(scifact_dir: Path, problems: list[Problem]) -> None:
    ds = load_beir(scifact_dir, split="train", on_problem=problems.append, progress=False)
    assert problems == []
    assert len(ds.queries) == 809
    assert len(ds.qrels) == 809
    assert sum(len(judged) for judged in ds.qrels.values()) == 919
    assert {grade for judged in ds.qrels.values() for grade in judged.values()} == {1}
    assert ds.qrels["0"] == {"31715818": 1}
    query_2 = next(q for q in ds.queries if q.qid == "2")
    assert query_2.text == "1 in 5 million in UK have abnormal PrP positivity."
    assert query_2.meta == {"13734012": [{"sentences": [4], "label": "CONTRADICT"}]}
    # the corpus is a factory: each call is a full pass
    doc_ids = {d.doc_id for d in ds.corpus()}
    assert len(doc_ids) == 5183
    assert sum(1 for _ in ds.corpus()) == 5183
    assert {doc_id for judged in ds.qrels.values() for doc_id in judged} <= doc_ids


def test_scifact_has_no_test_split(scifact_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"test\.tsv.*available: train"):
        load_beir(scifact_dir, split="test", progress=False)


def test_cranfield_empty_docs_are_reported_not_fatal(cranfield_dir: Path, problems: list[Problem]) -> None:
    docs = list(read_beir_corpus(cranfield_dir, on_problem=problems.append, progress=False))
    assert len(docs) == 1398
    assert [(p.line, p.reason) for p in problems] == [
        (471, "document '471': empty field \"text\""),
        (995, "document '995': empty field \"text\""),
    ]
    assert all(p.path.endswith("corpus.jsonl") for p in problems)
    assert {"471", "995"}.isdisjoint(d.doc_id for d in docs)
    assert docs[0].meta.keys() >= {"author", "bibliography"}


def test_cranfield_graded_qrels(cranfield_dir: Path) -> None:
    ds = load_beir(cranfield_dir, progress=False)
    assert len(ds.queries) == 225
    assert len(ds.qrels) == 225
    grades = Counter(g for judged in ds.qrels.values() for g in judged.values())
    # 5 - Cleverdon code; code -1 (non-relevant) -> 0, kept as a judgment
    assert grades == {4: 128, 3: 387, 2: 734, 1: 363, 0: 225}
    assert ds.qrels["1"]["184"] == 3


def test_cisi_judged_queries(cisi_dir: Path) -> None:
    ds = load_beir(cisi_dir, progress=False)
    assert len(ds.queries) == 112
    assert len(ds.judged_queries) == 76
    assert sum(len(judged) for judged in ds.qrels.values()) == 3114


# --- malformed corpus files ------------------------------------------------------------------


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _doc(doc_id: str, text: str = "some text", **extra: object) -> str:
    return json.dumps({"_id": doc_id, "title": f"T{doc_id}", "text": text, **extra})


def test_malformed_corpus_lines_are_reported_and_skipped(
    tmp_path: Path, problems: list[Problem], caplog: pytest.LogCaptureFixture
) -> None:
    corpus = _write_lines(
        tmp_path / "corpus.jsonl",
        [
            _doc("a", metadata={"year": 2020}),
            '{"_id": "b", "title": "broken"',
            json.dumps({"_id": "c", "title": "no text"}),
            _doc("a", "second a"),
            "",
            json.dumps(["not", "an", "object"]),
            json.dumps({"title": "no id", "text": "x"}),
            _doc("d", "   "),
            _doc("e", extra_field="kept"),
        ],
    )
    with caplog.at_level(logging.WARNING, logger="odqa.corpus"):
        docs = list(read_beir_corpus(tmp_path, on_problem=problems.append, progress=False))
    assert [d.doc_id for d in docs] == ["a", "e"]
    assert docs[0] == SourceDocument("a", "some text", "Ta", {"year": 2020})
    assert docs[1].meta == {"extra_field": "kept"}
    assert [p.line for p in problems] == [2, 3, 4, 6, 7, 8]
    reasons = [p.reason for p in problems]
    assert reasons[0].startswith("invalid JSON: ")
    assert reasons[1] == "document 'c': missing field \"text\""
    assert reasons[2] == "duplicate document id 'a' (keeping the first)"
    assert reasons[3] == "expected a JSON object, got list"
    assert reasons[4] == 'missing field "_id"'
    assert reasons[5] == "document 'd': empty field \"text\""
    assert str(problems[1]) == f"{corpus}:3: document 'c': missing field \"text\""
    # every problem is also logged as a warning
    assert [r.getMessage() for r in caplog.records] == [str(p) for p in problems]


def test_strict_mode_raises_at_first_problem(tmp_path: Path) -> None:
    corpus = _write_lines(tmp_path / "corpus.jsonl", [_doc("a"), _doc("b"), json.dumps({"_id": "c"})])
    with pytest.raises(IngestError) as excinfo:
        list(read_beir_corpus(corpus, strict=True, progress=False))
    assert excinfo.value.problem == Problem(str(corpus), 3, "document 'c': missing field \"text\"")
    assert str(excinfo.value) == f"{corpus}:3: document 'c': missing field \"text\""


def test_invalid_utf8_line_is_a_problem(tmp_path: Path, problems: list[Problem]) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(_doc("a").encode() + b"\n" + b'{"_id": "b", "text": "\xff"}\n' + _doc("c").encode())
    docs = list(read_beir_corpus(corpus, on_problem=problems.append, progress=False))
    assert [d.doc_id for d in docs] == ["a", "c"]
    assert [(p.line, p.reason.split(":")[0]) for p in problems] == [(2, "invalid UTF-8")]


def test_gzipped_corpus(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "corpus.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(_doc("a") + "\n" + _doc("b") + "\n")
    assert [d.doc_id for d in read_beir_corpus(tmp_path, progress=False)] == ["a", "b"]


def test_missing_corpus_file_fails_at_call_time(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"corpus\.jsonl"):
        read_beir_corpus(tmp_path, progress=False)


def test_queries_duplicates_and_missing_text(tmp_path: Path, problems: list[Problem]) -> None:
    _write_lines(
        tmp_path / "queries.jsonl",
        [
            json.dumps({"_id": "q1", "text": "first", "metadata": {"k": 1}}),
            json.dumps({"_id": "q1", "text": "again"}),
            json.dumps({"_id": 7, "text": "integer id"}),
            json.dumps({"_id": "q3"}),
        ],
    )
    queries = read_beir_queries(tmp_path, on_problem=problems.append, progress=False)
    assert [(q.qid, q.text, q.meta) for q in queries] == [("q1", "first", {"k": 1}), ("7", "integer id", {})]
    assert [(p.line, p.reason) for p in problems] == [
        (2, "duplicate query id 'q1' (keeping the first)"),
        (4, "query 'q3': missing field \"text\""),
    ]


# --- qrels -----------------------------------------------------------------------------------


def test_qrels_beir_and_trec_give_the_same_judgments(tmp_path: Path, problems: list[Problem]) -> None:
    beir = _write_lines(
        tmp_path / "test.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t2", "q1\td2\t0", "q2\td1\t1"]
    )
    trec = _write_lines(tmp_path / "qrels.trec", ["q1 0 d1 2", "q1 0 d2 0", "q2  Q0\td1   1"])
    expected = {"q1": {"d1": 2, "d2": 0}, "q2": {"d1": 1}}
    assert read_qrels(beir, on_problem=problems.append, progress=False) == expected
    assert read_qrels(trec, on_problem=problems.append, progress=False) == expected
    assert problems == []


def test_qrels_headerless_tsv_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_bytes(b"1\t184\t3\r\n1\t29\t1.0\r\n")
    assert read_qrels(path, progress=False) == {"1": {"184": 3, "29": 1}}


def test_qrels_problems(tmp_path: Path, problems: list[Problem]) -> None:
    path = _write_lines(
        tmp_path / "q.tsv",
        [
            "query-id\tcorpus-id\tscore",
            "q1\td1\t1",
            "q1\td1\t2",
            "q1\td2\thigh",
            "q2\td3",
            "q2\td4\t0.5",
            "q3\td1\t1",
        ],
    )
    assert read_qrels(path, on_problem=problems.append, progress=False) == {"q1": {"d1": 1}, "q3": {"d1": 1}}
    assert [p.line for p in problems] == [3, 4, 5, 6]
    assert problems[0].reason == "duplicate judgment for query 'q1', document 'd1' (keeping the first)"
    assert problems[1].reason == "grade 'high' is not an integer"
    assert problems[2].reason.startswith("expected 3 fields for beir qrels")
    with pytest.raises(IngestError, match=r"q\.tsv:3: duplicate judgment"):
        read_qrels(path, strict=True, progress=False)


def test_qrels_forced_format(tmp_path: Path, problems: list[Problem]) -> None:
    path = _write_lines(tmp_path / "q.txt", ["q1 0 d1 1", "q1 d2 1"])
    assert read_qrels(path, fmt="trec", on_problem=problems.append, progress=False) == {"q1": {"d1": 1}}
    assert [p.line for p in problems] == [2]


def test_empty_qrels_file_is_a_problem(tmp_path: Path, problems: list[Problem]) -> None:
    path = _write_lines(tmp_path / "q.tsv", ["query-id\tcorpus-id\tscore"])
    assert read_qrels(path, on_problem=problems.append, progress=False) == {}
    assert [(p.line, p.reason) for p in problems] == [(None, "no judgments")]


def test_load_beir_reports_judged_queries_missing_from_queries(
    tmp_path: Path, problems: list[Problem]
) -> None:
    _write_lines(tmp_path / "corpus.jsonl", [_doc("d1")])
    _write_lines(tmp_path / "queries.jsonl", [json.dumps({"_id": "q1", "text": "x"})])
    (tmp_path / "qrels").mkdir()
    _write_lines(tmp_path / "qrels" / "dev.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q9\td1\t1"])
    ds = load_beir(tmp_path, split="dev", on_problem=problems.append, progress=False)
    assert ds.qrels == {"q1": {"d1": 1}, "q9": {"d1": 1}}
    assert [p.reason for p in problems] == ["1 judged query ids are not in queries.jsonl: q9"]
    assert [d.doc_id for d in ds.corpus()] == ["d1"]
