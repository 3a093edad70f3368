"""Evaluation datasets (real shared data) and the dataset-specific index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from odqa.eval.datasets import (
    INDEX_OVERRIDES,
    EvalDataset,
    default_index_dir,
    ensure_index,
    index_matches,
    load_dataset,
)
from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv


def test_shared_beir_datasets(data_dir: Path) -> None:
    scifact = load_dataset(data_dir / "scifact", split="train")
    assert (scifact.kind, len(scifact.queries), scifact.total_queries) == ("beir", 809, 809)
    assert sum(len(d) for d in scifact.qrels.values()) == 919
    assert not scifact.has_answers
    cranfield = load_dataset(data_dir / "cranfield")
    assert len(cranfield.queries) == 225
    assert all(0 in grades.values() for grades in cranfield.qrels.values())  # one grade-0 judgement each
    cisi = load_dataset(data_dir / "cisi", max_queries=10)
    assert (len(cisi.queries), cisi.total_queries) == (10, 76)  # only the 76 judged queries count
    assert [q.qid for q in cisi.queries] == list(cisi.qrels)


def test_missing_split_lists_the_available_ones(data_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="available: train"):
        load_dataset(data_dir / "scifact", split="test")


def test_squad_dataset(data_dir: Path) -> None:
    squad = load_dataset(data_dir / "squad" / "dev-v1.1-part-a.json", max_queries=50)
    assert squad.kind == "squad" and squad.has_answers and squad.total_queries == 7753
    q = squad.queries[0]
    (gold,) = squad.qrels[q.qid]
    assert gold == "super-bowl-50-0" and squad.qrels[q.qid][gold] == 1
    assert all(a in squad.contexts[q.qid] for a in squad.answers[q.qid])


def test_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match="not a BEIR directory"):
        load_dataset(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="max_queries"):
        load_dataset(tmp_path, max_queries=0)


def test_default_index_dir_depends_on_the_dataset_path(scifact_dataset: EvalDataset, tmp_path: Path) -> None:
    path = default_index_dir(tmp_path, scifact_dataset)
    assert path.parent == tmp_path and path.name.startswith("mini-scifact-")
    assert default_index_dir(tmp_path, scifact_dataset) == path


def test_ensure_index_builds_once_and_refuses_another_collection(
    scifact_index: Path, scifact_dataset: EvalDataset, squad_dataset: EvalDataset, registry: ModelRegistry
) -> None:
    manifest = json.loads((scifact_index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["overrides"] == INDEX_OVERRIDES
    # whole documents: one passage per document (162 documents of the mini corpus)
    assert manifest["documents"] == manifest["passages"] > 150
    assert index_matches(scifact_index, scifact_dataset)
    assert (
        ensure_index(scifact_dataset, PipelineEnv(index_dir=scifact_index, registry=registry), progress=False)
        is False
    )  # reused
    assert not index_matches(scifact_index, squad_dataset)
    with pytest.raises(ValueError, match="another collection"):
        ensure_index(squad_dataset, PipelineEnv(index_dir=scifact_index, registry=registry), progress=False)


def test_index_built_another_way_is_not_reused(
    scifact_index: Path, scifact_dataset: EvalDataset, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(scifact_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["overrides"] = {"splitter": {"unit": "word", "length": 100}}
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert not index_matches(copy, scifact_dataset)
    assert not index_matches(tmp_path / "nowhere", scifact_dataset)
    # the same passages embedded in int8 (or stored in another FAISS index) are the same collection
    manifest["overrides"] = {**INDEX_OVERRIDES, "doc_embedder": {"model_precision": "int8"}}
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert index_matches(copy, scifact_dataset)


def test_query_subsets_split_the_judged_queries(mini_scifact: Path, mini_squad: Path) -> None:
    from odqa.eval.splits import query_split

    for path in (mini_scifact, mini_squad):
        full = load_dataset(path, split="train")
        train, dev = (load_dataset(path, split="train", subset=s) for s in ("train", "dev"))
        ids = [q.qid for q in full.queries]
        assert [q.qid for q in dev.queries] == [q for q in ids if q in set(query_split(ids)[1])]
        assert {q.qid for q in train.queries} | {q.qid for q in dev.queries} == set(ids)
        assert set(train.qrels).isdisjoint(dev.qrels) and dev.subset == "dev" and full.subset == "all"
        assert dev.describe()["subset"] == "dev"
        assert len(load_dataset(path, split="train", subset="dev", max_queries=2).queries) == 2
    with pytest.raises(ValueError, match="subset"):
        load_dataset(mini_scifact, split="train", subset="half")  # type: ignore[arg-type]
