"""The pipeline environment every entry point opens graphs with, and the run result that knows
its graph (real index, real models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from odqa.models import ModelRegistry
from odqa.pipelines.env import IndexNotFoundError, PipelineEnv, open_runner


def test_from_settings_carries_index_models_device_and_backend(tmp_path: Path) -> None:
    from odqa.config import load_settings

    settings = load_settings(
        index_dir=tmp_path / "index", models_dir=tmp_path / "models", device="cpu", reader_model="/x/reader"
    )
    env = PipelineEnv.from_settings(settings)
    assert env.index_dir == tmp_path / "index" and env.device == "cpu"
    assert env.backend == "embedded" and env.dense == "faiss" and env.es is None
    assert env.registry.models_dir == tmp_path / "models"
    assert env.registry.resolve("reader").location == "/x/reader"
    other = env.replace(index_dir=str(tmp_path / "eval")).with_models(reranker="/y/reranker")
    assert other.index_dir == tmp_path / "eval" and other.device == "cpu"
    assert other.registry.resolve("reranker").location == "/y/reranker"
    assert other.registry.resolve("reader").location == "/x/reader"  # kept
    es = PipelineEnv.from_settings(settings.model_copy(update={"backend": "elasticsearch", "es_index": "k"}))
    assert es.backend == "elasticsearch" and es.es is not None and es.es.index == "k"


def test_device_reaches_every_component_that_takes_one_ner_included(
    tmp_path: Path, full_registry: ModelRegistry
) -> None:
    """The NER components used to get a serialised ComponentDevice where they expected a string."""
    from haystack import Pipeline
    from haystack.utils import ComponentDevice

    from odqa.components.analyzers.backends import torch_device
    from odqa.pipelines.loader import TRUSTED_MODULES

    pipe = PipelineEnv(index_dir=tmp_path, registry=full_registry, device="cpu").load("qa_ner")
    cpu = ComponentDevice.from_str("cpu")
    for name in ("analyzer", "answer_prior", "query_embedder"):
        assert pipe.get_component(name).device == cpu, name  # type: ignore[attr-defined]
    assert torch_device(pipe.get_component("analyzer").device) == "cpu"  # type: ignore[attr-defined]
    again = Pipeline.from_dict(pipe.to_dict(), allowed_modules=list(TRUSTED_MODULES))  # a round trip keeps it
    assert again.get_component("answer_prior").device == cpu  # type: ignore[attr-defined]
    auto = PipelineEnv(index_dir=tmp_path, registry=full_registry).load("qa_ner")
    assert auto.get_component("analyzer").device is None  # type: ignore[attr-defined]
    as_text = PipelineEnv(index_dir=tmp_path, registry=full_registry).load(
        "qa_ner", {"analyzer": {"device": "cpu"}}
    )
    assert as_text.get_component("analyzer").device == cpu  # type: ignore[attr-defined]


def test_overrides_go_through_deserialization_and_name_unknown_parts(
    tmp_path: Path, full_registry: ModelRegistry
) -> None:
    from odqa.pipelines.loader import PipelineError

    env = PipelineEnv(index_dir=tmp_path, registry=full_registry)
    pipe = env.load("hybrid", {"fusion": {"top_k": 7, "mode": "weighted"}})
    fusion = pipe.get_component("fusion")
    assert fusion.top_k == 7 and fusion.mode == "weighted"  # type: ignore[attr-defined]
    store = {
        "type": "odqa.components.stores.faiss_document_store.OdqaFAISSDocumentStore",
        "init_parameters": {"path": str(tmp_path / "f"), "index_string": "HNSW32"},
    }
    writer = env.load("indexing", {"faiss_writer": {"document_store": store}}).get_component("faiss_writer")
    assert writer.document_store.index_string == "HNSW32"  # type: ignore[attr-defined]
    with pytest.raises(PipelineError, match="unknown component 'nope'"):
        env.load("hybrid", {"nope": {"x": 1}})
    with pytest.raises(PipelineError, match="zzz"):
        env.load("hybrid", {"fusion": {"zzz": 1}})


def test_open_runner_without_an_index_names_the_command(tmp_path: Path, full_registry: ModelRegistry) -> None:
    with pytest.raises(IndexNotFoundError, match=r"no index at .*odqa index COLLECTION"):
        open_runner(PipelineEnv(index_dir=tmp_path / "none", registry=full_registry), "bm25")


def test_run_result_knows_stages_final_documents_and_answers(
    small_index: Path, registry: ModelRegistry
) -> None:
    runner = open_runner(PipelineEnv(index_dir=small_index, registry=registry), "hybrid")
    result = runner.run("When did Tesla die?")
    names = [name for name, _ in result.stages]
    assert names.index("bm25") < names.index("fusion") and names.index("dense") < names.index("fusion")
    assert names.index("query_embedder") < names.index("dense")
    assert result.documents_from == "fusion" and result.answers_from is None and result.answers == []
    assert result.final_documents == result.outputs["fusion"]["documents"]
    assert list(result.documents_by_stage()) == [n for n in names if n in ("bm25", "dense", "fusion")]


def test_an_index_of_another_format_or_embedder_is_refused_naming_both(
    small_index: Path, registry: ModelRegistry, tmp_path: Path
) -> None:
    import json

    from odqa.pipelines.env import INDEX_FORMAT, IndexMismatchError, check_index

    manifest = check_index(small_index)
    assert manifest["index_format"] == INDEX_FORMAT and manifest["models"]["embedder"]
    env = PipelineEnv(index_dir=small_index, registry=registry).with_models(embedder=str(tmp_path / "other"))
    with pytest.raises(IndexMismatchError, match=r"vectors come from embedder .* but this graph would embed"):
        open_runner(env, "hybrid")
    open_runner(env, "bm25", warm_up=False)  # no embedder in the graph: fine
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "manifest.json").write_text(json.dumps({**manifest, "index_format": INDEX_FORMAT + 1}))
    with pytest.raises(IndexMismatchError, match="written by a newer odqa"):
        open_runner(PipelineEnv(index_dir=newer, registry=registry), "bm25")
