"""Small real datasets for the evaluation tests, cut from the shared data, and their indexes.

* ``mini_scifact``: a BEIR directory with 12 SciFact train claims, their cited abstracts and the
  first 150 other abstracts;
* ``mini_squad``: 2 articles of SQuAD dev part A (the 12 shortest paragraphs of each).

Indexes are built with the real indexing graph (MiniLM) by :func:`odqa.eval.datasets.ensure_index`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from odqa.eval.datasets import EvalDataset, ensure_index, load_dataset
from odqa.eval.pipeline_eval import PipelineEvaluation, evaluate_pipeline
from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv, open_runner

# No usage telemetry from Haystack or ragas (and no attempts to reach their servers offline).
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")


@pytest.fixture(scope="session")
def mini_squad(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    full = json.loads((data_dir / "squad" / "dev-v1.1-part-a.json").read_text(encoding="utf-8"))
    small = []
    for article in full["data"]:
        if article["title"] in {"Warsaw", "Oxygen"}:
            paragraphs = sorted(article["paragraphs"], key=lambda p: len(p["context"]))[:12]
            small.append({"title": article["title"], "paragraphs": paragraphs})
    path = tmp_path_factory.mktemp("squad") / "mini-squad.json"
    path.write_text(json.dumps({"version": "1.1", "data": small}), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    return ModelRegistry(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def scifact_dataset(mini_scifact: Path) -> EvalDataset:
    return load_dataset(mini_scifact, split="train")


@pytest.fixture(scope="session")
def squad_dataset(mini_squad: Path) -> EvalDataset:
    return load_dataset(mini_squad, max_queries=40)


@pytest.fixture(scope="session")
def scifact_index(
    scifact_dataset: EvalDataset, registry: ModelRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    index_dir = tmp_path_factory.mktemp("idx") / "mini-scifact"
    assert (
        ensure_index(scifact_dataset, PipelineEnv(index_dir=index_dir, registry=registry), progress=False)
        is True
    )
    return index_dir


@pytest.fixture(scope="session")
def squad_index(
    squad_dataset: EvalDataset, registry: ModelRegistry, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    index_dir = tmp_path_factory.mktemp("idx") / "mini-squad"
    assert (
        ensure_index(squad_dataset, PipelineEnv(index_dir=index_dir, registry=registry), progress=False)
        is True
    )
    return index_dir


@pytest.fixture(scope="session")
def scifact_hybrid(
    scifact_index: Path, scifact_dataset: EvalDataset, registry: ModelRegistry
) -> PipelineEvaluation:
    """The hybrid graph evaluated on the mini SciFact (no ragas)."""

    runner = open_runner(PipelineEnv(index_dir=scifact_index, registry=registry), "hybrid", warm_up=False)
    return evaluate_pipeline(runner, "hybrid", scifact_dataset, ragas=False, progress=False)


@pytest.fixture(scope="session")
def squad_evaluations(
    squad_index: Path, squad_dataset: EvalDataset, registry: ModelRegistry
) -> dict[str, PipelineEvaluation]:
    """bm25 and hybrid evaluated on the mini SQuAD (ragas for hybrid)."""

    out = {}
    for name in ("bm25", "hybrid"):
        runner = open_runner(PipelineEnv(index_dir=squad_index, registry=registry), name, warm_up=False)
        out[name] = evaluate_pipeline(runner, name, squad_dataset, ragas=name == "hybrid", progress=False)
    return out
