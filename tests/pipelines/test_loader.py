"""Every built-in graph loads with Haystack's loader and round-trips to_dict/from_dict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from haystack import Pipeline

from odqa.models import ModelRegistry, ModelUnavailableError
from odqa.pipelines.loader import TRUSTED_MODULES, PipelineError, available_pipelines, load_pipeline


def test_builtins_exist() -> None:
    assert set(available_pipelines()) >= {"indexing", "bm25", "dense", "hybrid", "qa"}


@pytest.mark.parametrize("name", ["indexing", "bm25", "dense", "hybrid", "hybrid_rerank", "qa", "qa_rerank"])
def test_yaml_round_trip(name: str, tmp_path: Path, full_registry: ModelRegistry) -> None:
    pipe = load_pipeline(name, index_dir=tmp_path / "idx", registry=full_registry)
    first = pipe.to_dict()
    again = Pipeline.loads(pipe.dumps(), allowed_modules=list(TRUSTED_MODULES)).to_dict()
    assert again["components"] == first["components"]
    edges = {(c["sender"], c["receiver"]) for c in first["connections"]}
    assert {(c["sender"], c["receiver"]) for c in again["connections"]} == edges
    declared = yaml.safe_load(re.sub(r"\$\{\w+\}", "0", available_pipelines()[name].read_text()))
    assert set(first["components"]) == set(declared["components"])
    assert edges == {(c["sender"], c["receiver"]) for c in declared["connections"]}


def test_overrides_reach_components(tmp_path: Path, full_registry: ModelRegistry) -> None:
    pipe = load_pipeline(
        "hybrid",
        index_dir=tmp_path,
        registry=full_registry,
        overrides={"fusion": {"mode": "weighted", "rrf_k": 10}},
    )
    fusion = pipe.to_dict()["components"]["fusion"]["init_parameters"]
    assert fusion["mode"] == "weighted" and fusion["rrf_k"] == 10


def test_missing_trained_model_fails_fast_with_hint(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"odqa train reader"):
        load_pipeline("qa", index_dir=tmp_path, registry=ModelRegistry(tmp_path / "empty"))
    registry = ModelRegistry(tmp_path / "empty", overrides={"reader": str(tmp_path)})
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailableError, match=r"odqa train reranker"):
        load_pipeline("qa_rerank", index_dir=tmp_path, registry=registry)


def test_graph_roles_are_the_models_a_graph_needs() -> None:
    from odqa.pipelines.loader import graph_roles

    assert graph_roles("qa") == {"ner", "embedder", "reader"}  # no re-ranker: the first run skips it
    assert graph_roles("qa_rerank") == {"ner", "embedder", "reranker", "reader"}
    assert graph_roles("hybrid_rerank") == {"embedder", "reranker"}
    assert graph_roles("bm25") == set()
    with pytest.raises(PipelineError, match="no pipeline named"):
        graph_roles("nope")


def test_errors_name_the_file(tmp_path: Path, full_registry: ModelRegistry) -> None:
    with pytest.raises(PipelineError, match="no pipeline named 'nope'"):
        load_pipeline("nope", index_dir=tmp_path, registry=full_registry)
    bad = tmp_path / "bad.yaml"
    bad.write_text("components:\n  x:\n    type: a.B\n    init_parameters: {p: ${mystery}}\n")
    with pytest.raises(PipelineError, match=r"bad.yaml:4: unknown placeholder \$\{mystery\}"):
        load_pipeline(bad, index_dir=tmp_path, registry=full_registry)
    bad.write_text("components:\n  x:\n    type: odqa.nope.Nope\nconnections: []\n")
    with pytest.raises(PipelineError, match=r"bad\.yaml: cannot build pipeline"):
        load_pipeline(bad, index_dir=tmp_path, registry=full_registry)
    with pytest.raises(PipelineError, match="override names unknown component"):
        load_pipeline("bm25", index_dir=tmp_path, registry=full_registry, overrides={"zzz": {}})


def test_device_is_placed_on_model_components(tmp_path: Path, full_registry: ModelRegistry) -> None:
    from haystack.utils import ComponentDevice

    pipe = load_pipeline("qa_rerank", index_dir=tmp_path, registry=full_registry, device="cpu")
    for name in ("query_embedder", "ranker"):
        assert pipe.get_component(name).device == ComponentDevice.from_str("cpu"), name  # type: ignore[attr-defined]
    # the reader turns its device into a transformers device_map at init
    assert pipe.get_component("reader").model_kwargs["device_map"] == "cpu"  # type: ignore[attr-defined]
    assert "device" not in pipe.to_dict()["components"]["bm25"]["init_parameters"]


def test_parse_overrides_reads_yaml_values_and_names_bad_items() -> None:
    from odqa.pipelines.loader import PipelineError, parse_overrides

    got = parse_overrides(["analyzer.boost=0", "fusion.top_k=10", "fusion.mode=weighted", "x.flag=true"])
    assert got == {"analyzer": {"boost": 0}, "fusion": {"top_k": 10, "mode": "weighted"}, "x": {"flag": True}}
    assert parse_overrides(["fusion.sources=[bm25, dense]"]) == {"fusion": {"sources": ["bm25", "dense"]}}
    for bad in ("analyzer=0", "boost", ".boost=1", "analyzer.=1"):
        with pytest.raises(PipelineError, match=r"expected component\.parameter=value"):
            parse_overrides([bad])
