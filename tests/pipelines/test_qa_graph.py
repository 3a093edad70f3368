"""The `qa` graph end to end with models odqa trained itself (tiny, in this session)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.models import ModelRegistry
from odqa.pipelines.indexing import index_collection
from odqa.pipelines.loader import load_pipeline
from odqa.pipelines.runner import QueryRunner
from odqa.train.common import TrainResult

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def qa_runner(
    tiny_squad: Path,
    trained_reader: TrainResult,
    trained_reranker: TrainResult,
    tmp_path_factory: pytest.TempPathFactory,
) -> QueryRunner:
    registry = ModelRegistry(
        tmp_path_factory.mktemp("models"),
        overrides={"reader": str(trained_reader.output_dir), "reranker": str(trained_reranker.output_dir)},
    )
    index_dir = tmp_path_factory.mktemp("qa") / "index"
    index_collection(tiny_squad, index_dir=index_dir, registry=registry, progress=False)
    return QueryRunner(load_pipeline("qa", index_dir=index_dir, registry=registry))


def test_trained_models_answer_through_the_qa_graph(qa_runner: QueryRunner, tiny_squad: Path) -> None:
    article = json.loads(tiny_squad.read_text())["data"][0]
    question = article["paragraphs"][0]["qas"][0]["question"]
    result = qa_runner.run(question)
    assert set(result.outputs) == {
        "analyzer",
        "bm25",
        "query_embedder",
        "dense",
        "fusion",
        "ranker",
        "reader",
    }
    assert qa_runner.answers_from == "reader" and result.answers == result.outputs["reader"]["answers"]
    assert len(result.outputs["ranker"]["documents"]) == 3
    answers = [a for a in result.outputs["reader"]["answers"] if a.data]
    assert answers, "the trained reader returned no span"
    reranked = {d.id for d in result.outputs["ranker"]["documents"]}
    for a in answers:
        assert a.document is not None and a.document.id in reranked
        span = a.document_offset
        assert a.document.content[span.start : span.end] == a.data  # the exact span of the passage
        assert a.document.meta["doc_id"] and 0.0 <= a.score <= 1.0


def test_models_load_once_per_process(qa_runner: QueryRunner) -> None:
    ranker = qa_runner.pipeline.get_component("ranker")
    qa_runner.run("Which team won?")
    model_before = ranker._cross_encoder  # type: ignore[attr-defined]
    qa_runner.warm_up()
    qa_runner.pipeline.warm_up()
    qa_runner.run("Who was the coach?")
    assert ranker._cross_encoder is model_before  # type: ignore[attr-defined]
