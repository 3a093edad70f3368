"""bm25 / dense / hybrid graphs on a real (small) SQuAD index, per-stage outputs and timings."""

from __future__ import annotations

from pathlib import Path

from odqa.eval.trec import write_run
from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.search import runs_from_result

QUESTION = "What is the largest city in Poland?"


def test_indexing_wrote_both_stores_with_same_ids(small_index: Path) -> None:
    from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

    bm25 = EmbeddedBM25DocumentStore(path=str(small_index / "bm25"))
    dense = OdqaFAISSDocumentStore(path=str(small_index / "faiss"))
    assert {d.id for d in bm25.filter_documents()} == {d.id for d in dense.filter_documents()}
    assert (small_index / "manifest.json").exists()


def test_each_graph_finds_warsaw(small_index: Path, registry: ModelRegistry) -> None:
    for name in ("bm25", "dense", "hybrid"):
        runner = open_runner(PipelineEnv(index_dir=small_index, registry=registry), name, warm_up=False)
        result = runner.run(QUESTION)
        last = list(result.outputs)[-1]
        docs = result.outputs[last]["documents"]
        assert docs, name
        assert any(d.meta["doc_id"].startswith("warsaw") for d in docs[:3]), name
        assert all(t >= 0 for t in result.timings.values()) and set(result.timings) == set(result.outputs)


def test_hybrid_exposes_every_stage_and_writes_trec(
    small_index: Path, registry: ModelRegistry, tmp_path: Path
) -> None:
    runner = open_runner(PipelineEnv(index_dir=small_index, registry=registry), "hybrid", warm_up=False)
    result = runner.run(QUESTION)
    runs = runs_from_result(result, top_k=10, doc_level=True)
    assert set(runs) == {"bm25", "dense", "fusion"}
    fused_ids = list(runs["fusion"])
    assert len(fused_ids) == len(set(fused_ids)) <= 10
    path = tmp_path / "run.trec"
    write_run({"q1": runs["fusion"]}, path, tag="hybrid")
    lines = path.read_text().splitlines()
    assert lines[0].split() == ["q1", "Q0", fused_ids[0], "1", lines[0].split()[4], "hybrid"]


def test_filters_and_runtime_top_k(small_index: Path, registry: ModelRegistry) -> None:
    runner = open_runner(PipelineEnv(index_dir=small_index, registry=registry), "bm25", warm_up=False)
    flt = {"field": "meta.article", "operator": "==", "value": "Nikola_Tesla"}
    result = runner.run("city", params={"bm25": {"filters": flt, "top_k": 4}})
    docs = result.outputs["bm25"]["documents"]
    assert 0 < len(docs) <= 4 and all(d.meta["article"] == "Nikola_Tesla" for d in docs)
