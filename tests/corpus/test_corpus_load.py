"""Format detection and dispatch of :func:`read_collection`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.corpus import Problem, detect_format, read_collection


def test_detects_real_collections(scifact_dir: Path, cranfield_dir: Path, squad_dev: Path) -> None:
    assert detect_format(scifact_dir) == "beir"
    assert detect_format(cranfield_dir / "corpus.jsonl") == "beir"
    assert detect_format(squad_dev) == "squad"


def test_read_collection_real(cranfield_dir: Path, squad_dev: Path, problems: list[Problem]) -> None:
    assert sum(1 for _ in read_collection(cranfield_dir, on_problem=problems.append, progress=False)) == 1398
    assert len(problems) == 2
    docs = list(read_collection(squad_dev, progress=False))
    assert len(docs) == 1469
    assert docs[-1].meta["article"] == "French_and_Indian_War"


def test_detects_hand_made_formats(tmp_path: Path) -> None:
    (tmp_path / "plain.jsonl").write_text(json.dumps({"id": "1", "text": "x"}) + "\n")
    (tmp_path / "beirlike.jsonl").write_text("not json\n" + json.dumps({"_id": "1", "text": "x"}) + "\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("hello")
    (tmp_path / "other.json").write_text('{"rows": [1, 2]}')
    assert detect_format(tmp_path / "plain.jsonl") == "jsonl"
    assert detect_format(tmp_path / "beirlike.jsonl") == "beir"
    assert detect_format(tmp_path / "docs") == "dir"
    with pytest.raises(ValueError, match=r"cannot detect the collection format of .*other\.json"):
        detect_format(tmp_path / "other.json")
    assert [d.doc_id for d in read_collection(tmp_path / "docs", progress=False)] == ["a.txt"]
    assert [d.doc_id for d in read_collection(tmp_path / "plain.jsonl", progress=False)] == ["1"]


def test_jsonl_field_names_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"pid": "p", "body": "b"}) + "\n")
    docs = list(read_collection(path, "jsonl", id_field="pid", text_field="body", progress=False))
    assert [(d.doc_id, d.text) for d in docs] == [("p", "b")]


def test_missing_path_and_bad_format(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=f"collection path does not exist: {missing}"):
        read_collection(missing)
    with pytest.raises(ValueError, match="unknown collection format 'xml'"):
        read_collection(tmp_path, "xml")  # type: ignore[arg-type]
