"""The `qa` and `qa_rerank` graphs end to end with models odqa trained itself (tiny, in this session)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from haystack.dataclasses import ExtractedAnswer

from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.indexing import index_collection
from odqa.pipelines.runner import QueryRunner
from odqa.train.common import TrainResult

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registry_and_index(
    tiny_squad: Path,
    trained_reader: TrainResult,
    trained_reranker: TrainResult,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ModelRegistry, Path]:
    registry = ModelRegistry(
        tmp_path_factory.mktemp("models"),
        overrides={"reader": str(trained_reader.output_dir), "reranker": str(trained_reranker.output_dir)},
    )
    index_dir = tmp_path_factory.mktemp("qa") / "index"
    index_collection(tiny_squad, env=PipelineEnv(index_dir=index_dir, registry=registry), progress=False)
    return registry, index_dir


@pytest.fixture(scope="module")
def qa_runner(registry_and_index: tuple[ModelRegistry, Path]) -> QueryRunner:
    registry, index_dir = registry_and_index
    return open_runner(PipelineEnv(index_dir=index_dir, registry=registry), "qa", warm_up=False)


def _question(tiny_squad: Path) -> str:
    article = json.loads(tiny_squad.read_text())["data"][0]
    return str(article["paragraphs"][0]["qas"][0]["question"])


def _check_spans(answers: list[ExtractedAnswer], read: set[str]) -> None:
    assert answers, "the trained reader returned no span"
    for a in answers:
        assert a.document is not None and a.document.id in read
        span = a.document_offset
        assert a.document.content[span.start : span.end] == a.data  # the exact span of the passage
        assert a.document.meta["doc_id"] and 0.0 <= a.score <= 1.0


def test_trained_reader_answers_through_the_qa_graph(qa_runner: QueryRunner, tiny_squad: Path) -> None:
    result = qa_runner.run(_question(tiny_squad))
    stages = {"analyzer", "bm25", "query_embedder", "dense", "fusion", "reader", "answer_fusion"}
    assert set(result.outputs) == stages
    assert result.answers_from == "answer_fusion"
    fused = result.outputs["fusion"]["documents"]
    assert len(fused) == 3  # the reader reads fusion's top 3
    _check_spans([a for a in result.answers if a.data], {d.id for d in fused})
    # the final answers are the reader's, re-scored with their passage's rank and re-sorted
    read = [a for a in result.outputs["reader"]["answers"] if a.data]
    final = result.answers
    assert 0 < len(final) <= 5 and {(a.data, a.document.id) for a in final} <= {
        (a.data, a.document.id) for a in read
    }
    assert [a.score for a in final] == sorted((a.score for a in final), reverse=True)
    assert all("reader_score" in a.meta and "passage_term" in a.meta for a in final)


def test_qa_rerank_graph_picks_3_of_20(
    registry_and_index: tuple[ModelRegistry, Path], tiny_squad: Path
) -> None:
    registry, index_dir = registry_and_index
    runner = open_runner(PipelineEnv(index_dir=index_dir, registry=registry), "qa_rerank", warm_up=False)
    result = runner.run(_question(tiny_squad))
    assert {"fusion", "ranker", "reader", "answer_fusion"} <= set(result.outputs)
    assert result.answers_from == "answer_fusion"
    fused = {d.id for d in result.outputs["fusion"]["documents"]}
    reranked = result.outputs["ranker"]["documents"]
    assert len(fused) > 3 and len(reranked) == 3 and {d.id for d in reranked} <= fused
    _check_spans([a for a in result.answers if a.data], {d.id for d in reranked})


def test_models_load_once_per_process(qa_runner: QueryRunner) -> None:
    reader = qa_runner.pipeline.get_component("reader")
    qa_runner.run("Which team won?")
    model_before = reader.model  # type: ignore[attr-defined]
    assert model_before is not None
    qa_runner.warm_up()
    qa_runner.pipeline.warm_up()
    qa_runner.run("Who was the coach?")
    assert reader.model is model_before  # type: ignore[attr-defined]
