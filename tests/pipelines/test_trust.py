"""A pipeline file is code: a graph naming classes outside odqa/Haystack, or keeping a store outside
the index directory, is refused with one line naming the file, the component and the opt-in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv
from odqa.pipelines.loader import PipelineError, UntrustedPipelineError, available_pipelines

STORE = "odqa.components.stores.bm25_document_store.EmbeddedBM25DocumentStore"
RETRIEVER = "odqa.components.retrievers.bm25_retriever.EmbeddedBM25Retriever"


def graph(tmp_path: Path, components: dict[str, object]) -> Path:
    path = tmp_path / "user.yaml"
    path.write_text(yaml.safe_dump({"components": components, "connections": []}), encoding="utf-8")
    return path


def bm25(path: str, store_type: str = STORE) -> dict[str, object]:
    return {
        "type": RETRIEVER,
        "init_parameters": {"document_store": {"type": store_type, "init_parameters": {"path": path}}},
    }


@pytest.mark.parametrize("hostile", ["os.system", "subprocess.Popen", "builtins.eval", "shutil.rmtree"])
def test_a_graph_naming_code_outside_odqa_and_haystack_is_refused(tmp_path: Path, hostile: str) -> None:
    env = PipelineEnv(index_dir=tmp_path / "index", registry=ModelRegistry(tmp_path / "models"))
    top = graph(tmp_path, {"evil": {"type": hostile, "init_parameters": {"command": "touch pwned"}}})
    with pytest.raises(UntrustedPipelineError) as err:
        env.load(top)
    message = str(err.value)
    assert (
        str(top) in message and "'evil'" in message and hostile in message and "--trust-pipeline" in message
    )
    nested = graph(tmp_path, {"bm25": bm25(str(tmp_path / "index" / "bm25"), store_type=hostile)})
    with pytest.raises(UntrustedPipelineError, match=r"component 'bm25' \(bm25.document_store\)"):
        env.load(nested)
    assert not (tmp_path / "pwned").exists()


def test_a_store_outside_the_index_directory_needs_trust(tmp_path: Path) -> None:
    env = PipelineEnv(index_dir=tmp_path / "index", registry=ModelRegistry(tmp_path / "models"))
    outside = graph(tmp_path, {"bm25": bm25(str(tmp_path / "elsewhere"))})
    with pytest.raises(
        UntrustedPipelineError, match=r"keeps its store at .*elsewhere.*outside the index directory"
    ):
        env.load(outside)
    with pytest.raises(UntrustedPipelineError, match="outside the index directory"):
        env.load("bm25", {"bm25": {"document_store": {"type": STORE, "init_parameters": {"path": "/etc"}}}})
    trusted = env.replace(trust_pipelines=True).load(outside)  # the explicit opt-in
    assert trusted.get_component("bm25").document_store.path == str(tmp_path / "elsewhere")  # type: ignore[attr-defined]
    inside = graph(tmp_path, {"bm25": bm25(str(tmp_path / "index" / "bm25"))})
    assert env.load(inside).get_component("bm25") is not None


def test_builtin_graphs_pass_the_check(tmp_path: Path, full_registry: ModelRegistry) -> None:
    env = PipelineEnv(index_dir=tmp_path, registry=full_registry)
    for name in available_pipelines():
        env.load(name)


def test_top_k_below_one_is_an_error_not_an_empty_result(
    tmp_path: Path, full_registry: ModelRegistry
) -> None:
    env = PipelineEnv(index_dir=tmp_path, registry=full_registry)
    for override in ({"bm25": {"top_k": -5}}, {"fusion": {"top_k": 0}}, {"reader": {"top_k": 0}}):
        with pytest.raises(PipelineError, match="top_k must be >= 1"):
            env.load("qa", override)
