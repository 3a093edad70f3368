"""A small real index: two SQuAD dev articles, indexed with the real indexing graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.models import ModelRegistry


@pytest.fixture(scope="session")
def small_squad(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    full = json.loads((data_dir / "squad" / "dev-v1.1-part-a.json").read_text(encoding="utf-8"))
    wanted = {"Warsaw", "Nikola_Tesla"}
    small = {"version": full["version"], "data": [a for a in full["data"] if a["title"] in wanted]}
    path = tmp_path_factory.mktemp("squad") / "small.json"
    path.write_text(json.dumps(small), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    return ModelRegistry(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def small_index(small_squad: Path, registry: ModelRegistry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from odqa.pipelines.env import PipelineEnv
    from odqa.pipelines.indexing import index_collection

    index_dir = tmp_path_factory.mktemp("index") / "idx"
    report = index_collection(
        small_squad, env=PipelineEnv(index_dir=index_dir, registry=registry), progress=False
    )
    assert report.documents > 50 and report.passages >= report.documents
    return index_dir


@pytest.fixture
def full_registry(tmp_path: Path, minilm_path: str) -> ModelRegistry:
    # the YAML round trip only needs valid model directories, not trained ones
    return ModelRegistry(tmp_path, overrides={"reader": minilm_path, "reranker": minilm_path})
