"""SQuAD v1.1 reader: real dev part A and train, and hand-made malformed files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from odqa.corpus import IngestError, Problem, iter_squad_examples, read_squad, slug


def test_dev_part_a(squad_dev: Path, problems: list[Problem]) -> None:
    docs, examples = read_squad(squad_dev, on_problem=problems.append, progress=False)
    assert problems == []
    assert len(docs) == 1469
    assert len(examples) == 7753
    assert len({d.doc_id for d in docs}) == 1469
    assert len({e.qid for e in examples}) == 7753
    first = docs[0]
    assert first.doc_id == "super-bowl-50-0"
    assert first.title == "Super Bowl 50"
    assert first.meta == {"article": "Super_Bowl_50", "paragraph": 0}
    ex = examples[0]
    assert ex.qid == "56be4db0acb8001400a502ec"
    assert ex.question == "Which NFL team represented the AFC at Super Bowl 50?"
    assert ex.answers == ["Denver Broncos"] * 3
    assert ex.answer_starts == [177] * 3
    assert ex.doc_id == "super-bowl-50-0"
    assert ex.context is first.text
    by_id = {d.doc_id: d for d in docs}
    for e in examples:
        context = by_id[e.doc_id].text
        for text, start in zip(e.answers, e.answer_starts, strict=True):
            assert context[start : start + len(text)] == text
    assert len({d.meta["article"] for d in docs}) == 32


def test_train_is_fast(squad_train: Path) -> None:
    started = time.perf_counter()
    docs, examples = read_squad(squad_train, progress=False)
    elapsed = time.perf_counter() - started
    assert (len(docs), len(examples)) == (18896, 87599)
    assert len({d.doc_id for d in docs}) == 18896
    assert elapsed < 30, f"reading SQuAD train took {elapsed:.1f}s"


def test_slug() -> None:
    assert slug("Super_Bowl_50") == "super-bowl-50"
    assert slug("Financial_crisis_of_2007–08") == "financial-crisis-of-2007-08"
    assert slug("Beyoncé") == "beyonce"
    assert slug("St._John's,_Newfoundland_and_Labrador") == "st-john-s-newfoundland-and-labrador"
    assert slug("???") == "untitled"


def _squad_file(tmp_path: Path, data: list[Any]) -> Path:
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


def _qa(qid: str, text: str, start: int) -> dict[str, Any]:
    return {"id": qid, "question": f"question {qid}?", "answers": [{"text": text, "answer_start": start}]}


CONTEXT = "Paris is the capital of France. It lies on the Seine."


def test_wrong_answer_offset_is_reported(tmp_path: Path, problems: list[Problem]) -> None:
    bad_second_answer = _qa("q2", "Paris", 0)
    bad_second_answer["answers"].append({"text": "France", "answer_start": 3})
    data = [
        {"title": "Other", "paragraphs": [{"context": "Nothing here.", "qas": []}]},
        {
            "title": "Paris_(city)",
            "paragraphs": [
                {"context": "Intro.", "qas": []},
                {
                    "context": CONTEXT,
                    "qas": [_qa("q1", "France", 24), bad_second_answer, _qa("q3", "Seine", 5)],
                },
            ],
        },
    ]
    path = _squad_file(tmp_path, data)
    docs, examples = read_squad(path, on_problem=problems.append, progress=False)
    assert [d.doc_id for d in docs] == ["other-0", "paris-city-0", "paris-city-1"]
    assert docs[2].title == "Paris (city)"
    assert [(e.qid, e.answers, e.answer_starts) for e in examples] == [
        ("q1", ["France"], [24]),
        ("q2", ["Paris"], [0]),
    ]
    assert [str(p) for p in problems] == [
        f"{path}: data[1].paragraphs[1].qas[1].answers[1]: answer 'France' does not match the context "
        "at 3 (found 'is is ')",
        f"{path}: data[1].paragraphs[1].qas[2].answers[0]: answer 'Seine' does not match the context "
        "at 5 (found ' is t'); question skipped, no valid answer",
    ]


def test_structural_problems(tmp_path: Path, problems: list[Problem]) -> None:
    data = [
        {"paragraphs": []},
        {
            "title": "A",
            "paragraphs": [
                {"context": "", "qas": []},
                {"context": CONTEXT, "qas": [_qa("q1", "Paris", 0), _qa("q1", "Paris", 0), {"id": "q2"}]},
            ],
        },
    ]
    path = _squad_file(tmp_path, data)
    docs, examples = read_squad(path, on_problem=problems.append, progress=False)
    assert [d.doc_id for d in docs] == ["a-1"]
    assert [e.qid for e in examples] == ["q1"]
    assert [p.reason.split(":")[0] for p in problems] == [
        "data[0]",
        "data[1].paragraphs[0]",
        "data[1].paragraphs[1].qas[1]",
        "data[1].paragraphs[1].qas[2]",
    ]
    assert "duplicate question id 'q1'" in problems[2].reason
    assert all(p.line is None for p in problems)


def test_strict_mode_and_iter_examples(tmp_path: Path) -> None:
    path = _squad_file(
        tmp_path, [{"title": "T", "paragraphs": [{"context": CONTEXT, "qas": [_qa("q", "Rome", 0)]}]}]
    )
    with pytest.raises(
        IngestError, match=r"data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers\[0\]: answer 'Rome'"
    ):
        read_squad(path, strict=True, progress=False)
    assert list(iter_squad_examples(path, progress=False)) == []


def test_not_squad(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a SQuAD file"):
        read_squad(path)
    path.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(ValueError, match="invalid JSON"):
        read_squad(path)
