"""The full qa graph (retrievers -> fusion -> re-ranker -> reader) evaluated stage by stage.

The reader and re-ranker are tiny models trained here with odqa's own trainers (2-layer MiniLM,
a few steps): their answers are poor, but real, which is all the evaluation wiring needs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from odqa.eval.datasets import EvalDataset
from odqa.eval.pipeline_eval import PipelineEvaluation, evaluate_pipeline
from odqa.models import ModelRegistry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_base(minilm_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """all-MiniLM-L6-v2 cut to 2 layers (real weights, ~3x less compute)."""
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(minilm_path)
    model.encoder.layer = model.encoder.layer[:2]
    model.config.num_hidden_layers = 2
    path = tmp_path_factory.mktemp("minilm-l2")
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(minilm_path).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def qa_registry(mini_squad: Path, small_base: str, tmp_path_factory: pytest.TempPathFactory) -> ModelRegistry:
    try:
        from odqa.train import reader, reranker
    except ImportError as e:  # pragma: no cover - the train package is part of odqa
        pytest.skip(f"odqa.train is not importable: {e}")
    common = {
        "base_model": small_base,
        "progress": False,
        "threads": 1,
        "warmup": 0,
        "batch_size": 4,
        "measure_speed": False,
    }
    reader_out = reader.train_reader(
        reader.config_from_recipe(
            "quick",
            train_file=str(mini_squad),
            dev_file="",
            output_dir=str(tmp_path_factory.mktemp("reader")),
            max_examples=16,
            max_steps=4,
            minutes=0,
            val_examples=0,
            max_length=128,
            doc_stride=48,
            lr=3e-4,
            **common,
        )
    ).output_dir
    reranker_out = reranker.train_reranker(
        reranker.config_from_recipe(
            "quick",
            squad_file=str(mini_squad),
            squad_questions=16,
            dev_file="",
            output_dir=str(tmp_path_factory.mktemp("reranker")),
            max_steps=4,
            max_length=96,
            lr=1e-3,
            **common,
        )
    ).output_dir
    registry = ModelRegistry(
        tmp_path_factory.mktemp("models"), {"reader": str(reader_out), "reranker": str(reranker_out)}
    )
    assert registry.resolve("reader").available and registry.resolve("reranker").available
    return registry


@pytest.fixture(scope="module")
def qa_eval(qa_registry: ModelRegistry, squad_index: Path, squad_dataset: EvalDataset) -> PipelineEvaluation:
    from odqa.pipelines.env import PipelineEnv, open_runner

    # qa_rerank: the re-ranker picks 3 of fusion's top 20, so the funnel has a re-ranking stage
    runner = open_runner(PipelineEnv(index_dir=squad_index, registry=qa_registry), "qa_rerank", warm_up=False)
    return evaluate_pipeline(runner, "qa", squad_dataset, progress=False)  # ragas: on (reader)


def test_funnel_follows_the_graph(qa_eval: PipelineEvaluation) -> None:
    assert [(s.name, s.kind) for s in qa_eval.stages] == [
        ("bm25", "retrieval"),
        ("dense", "retrieval"),
        ("fusion", "retrieval"),
        ("ranker", "retrieval"),
        ("reader", "reader"),
        ("answer_fusion", "reader"),  # the reader's answers re-scored with the re-ranker's passage score
    ]
    assert qa_eval.final_stage.name == "ranker"
    assert qa_eval.stage("fusion").depth == 20 and qa_eval.stage("ranker").depth == 3
    fusion, ranker = qa_eval.runs["fusion"], qa_eval.runs["ranker"]
    for qid in ranker:
        assert set(ranker[qid]) <= set(fusion[qid])  # the re-ranker only keeps fusion documents
    assert qa_eval.stage("ranker").funnel["found"] <= qa_eval.stage("fusion").funnel["found"]
    assert qa_eval.stage("ranker").funnel["answer_found"] <= qa_eval.stage("fusion").funnel["answer_found"]


def test_reader_scores(qa_eval: PipelineEvaluation) -> None:
    reader = qa_eval.stage("reader")
    assert set(reader.per_query) == {q.qid for q in qa_eval.dataset.queries}
    for qid, vals in reader.per_query.items():
        assert vals["F1"] >= vals["EM"]
        ems = [
            vals[k]
            for k in sorted(vals, key=lambda k: int(k[3:]) if k.startswith("EM@") else 0)
            if k.startswith("EM@")
        ]
        assert ems == sorted(ems) and ems[0] == vals["EM"]  # EM@1 == EM, EM@k grows with k
        ranker_docs = set(qa_eval.runs["ranker"][qid])
        assert {
            p["doc_id"] for p in qa_eval.predictions[qid]
        } <= ranker_docs  # answers come from read passages
    assert 0 <= reader.means["EM"] <= reader.means["F1"] <= 1


def test_ragas_answer_metrics(qa_eval: PipelineEvaluation) -> None:
    ragas = qa_eval.ragas
    assert ragas is not None and ragas["version"]
    reader = qa_eval.stage("reader").per_query
    for qid, vals in ragas["per_query"].items():
        # raw string equality implies equality after SQuAD normalisation
        assert vals["ragas_answer_exact_match"] <= reader[qid]["EM"]
        if vals["ragas_answer_exact_match"] == 1.0:
            assert vals["ragas_answer_similarity"] == 1.0
        assert 0.0 <= vals["ragas_context_precision"] <= 1.0
    assert ragas["counts"]["ragas_answer_similarity"] == len(qa_eval.dataset.queries)
    assert set(ragas["skipped"]) == {
        "ragas_faithfulness",
        "ragas_llm_context_recall",
        "ragas_llm_context_precision",
    }


def test_hybrid_rerank_reorders_the_head_and_keeps_the_tail(
    qa_registry: ModelRegistry, squad_index: Path, squad_dataset: EvalDataset
) -> None:
    from odqa.pipelines.env import PipelineEnv, open_runner

    runner = open_runner(
        PipelineEnv(index_dir=squad_index, registry=qa_registry), "hybrid_rerank", warm_up=False
    )
    ev = evaluate_pipeline(runner, "hybrid_rerank", squad_dataset, ragas=False, progress=False)
    assert [s.name for s in ev.stages] == ["bm25", "dense", "fusion", "head", "ranker", "reranked"]
    assert ev.final_stage.name == "reranked" and ev.stage("ranker").depth == ev.stage("head").depth <= 20
    fusion, head, ranker, final = (ev.runs[n] for n in ("fusion", "head", "ranker", "reranked"))
    for qid in final:
        assert list(head[qid]) == list(fusion[qid])[: len(head[qid])]  # the head is fusion's first 20
        assert set(ranker[qid]) == set(head[qid])  # re-ranked, none lost
        # the re-ranked head on top, in RRF of the re-ranker's and fusion's orders (candidate_weight 1)
        r, f = list(ranker[qid]), list(fusion[qid])
        fused = sorted(r, key=lambda d: (-(1 / (61 + r.index(d)) + 1 / (61 + f.index(d))), r.index(d)))
        assert list(final[qid])[: len(r)] == fused
        assert set(final[qid]) == set(fusion[qid])  # the tail follows: the same candidates
    # the same candidates: what does not look at the order cannot change
    assert ev.stage("reranked").means["R@100"] == pytest.approx(ev.stage("fusion").means["R@100"])
