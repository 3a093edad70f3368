"""A real (tiny) re-ranker training run: the loss falls and the output ranks in CrossEncoder/Haystack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.train.common import TrainResult
from odqa.train.data import squad_groups
from odqa.train.reranker import ranking_metrics

pytestmark = pytest.mark.slow


def test_loss_falls(trained_reranker: TrainResult) -> None:
    losses = [
        json.loads(line)["loss"]
        for line in (Path(trained_reranker.output_dir) / "train_log.jsonl").read_text().splitlines()
    ]
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.75 * first, losses
    assert trained_reranker.extra["first_loss"] == pytest.approx(losses[0], abs=1e-5)
    assert trained_reranker.unit == "pairs" and trained_reranker.examples_per_s > 0
    assert set(trained_reranker.dev_metrics) >= {"mrr@10", "accuracy"}


def test_card(trained_reranker: TrainResult) -> None:
    manifest = json.loads((Path(trained_reranker.output_dir) / "odqa_manifest.json").read_text())
    assert manifest["odqa_model"] == "reranker"
    assert manifest["data"][0]["role"] == "train:squad" and manifest["data"][0]["counts"]["groups"] == 8
    assert manifest["hyperparameters"]["loss"] == "listwise"


def test_cross_encoder_ranks_positives_first(trained_reranker: TrainResult, tiny_squad: Path) -> None:
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(trained_reranker.output_dir)
    groups = squad_groups(tiny_squad, 3, 8, seed=42)  # the training groups (same recipe seed)
    scores = [[float(s) for s in model.predict([(g.query, p) for p in g.passages])] for g in groups]
    assert ranking_metrics(scores)["accuracy"] >= 0.75
    assert all(g[0] > min(g[1:]) for g in scores)


def test_haystack_ranker(trained_reranker: TrainResult, tiny_squad: Path) -> None:
    from haystack import Document
    from haystack_integrations.components.rankers.sentence_transformers import (
        SentenceTransformersSimilarityRanker,
    )

    (g,) = squad_groups(tiny_squad, 3, 1, seed=42)
    ranker = SentenceTransformersSimilarityRanker(model=trained_reranker.output_dir, top_k=4)
    ranker.warm_up()
    docs = ranker.run(query=g.query, documents=[Document(content=p) for p in g.passages])["documents"]
    assert len(docs) == 4
    assert all(0.0 <= (d.score or 0.0) <= 1.0 for d in docs)


def test_candidate_groups_never_use_an_answer_bearing_passage_as_a_negative(tiny_squad: Path) -> None:
    """Mined from a real BM25 ranking of the tiny collection (what the graph would return)."""
    from odqa.components.stores.bm25_index import BM25Index
    from odqa.corpus.squad import read_squad
    from odqa.eval.qa import answer_in_passages
    from odqa.train.data import candidate_groups

    docs, examples = read_squad(tiny_squad, progress=False)
    index = BM25Index()
    index.add([d.doc_id for d in docs], [d.text for d in docs])
    text = {d.doc_id: d.text for d in docs}

    def candidates(question: str) -> list[tuple[str, str]]:
        return [(i, text[i]) for i, _ in index.search(question, 20)]

    groups = candidate_groups(
        examples[:30],
        candidates,
        n_negatives=4,
        n_random=1,
        max_positives=2,
        pool=list(text.values()),
        seed=0,
    )
    by_question: dict[str, list] = {}
    for g in groups:
        by_question.setdefault(g.qid, []).append(g)
    answers = {ex.qid: ex.answers for ex in examples}
    contexts = {ex.qid: ex.context for ex in examples}
    assert len(by_question) == 30
    for qid, gs in by_question.items():
        assert gs[0].positive == contexts[qid]  # the gold paragraph first
        assert len(gs) <= 2
        for g in gs:
            assert answer_in_passages([g.positive], answers[qid], 1)
            assert 1 <= len(g.negatives) <= 4
            assert not any(answer_in_passages([n], answers[qid], 1) for n in g.negatives)

    # an answer in several candidates: each is a positive (one group each), up to max_positives
    from odqa.corpus.types import QAExample

    paris = QAExample("q", "capital of France?", "Paris is the capital.", ["Paris"], [0], "a", "France")
    ranked = [("b", "Paris has museums."), ("c", "Lyon is big."), ("d", "Paris again."), ("e", "Nice.")]
    got = candidate_groups(
        [paris], lambda _: ranked, n_negatives=2, n_random=0, max_positives=3, pool=[], seed=0
    )
    assert [g.positive for g in got] == ["Paris is the capital.", "Paris has museums.", "Paris again."]
    assert all(g.negatives == ("Lyon is big.", "Nice.") for g in got)


def test_reranker_trains_on_hybrid_candidates(tiny_squad: Path, small_base: str, tmp_path: Path) -> None:
    from odqa.eval.datasets import INDEX_OVERRIDES
    from odqa.models import ModelRegistry
    from odqa.pipelines.env import PipelineEnv
    from odqa.pipelines.indexing import index_collection
    from odqa.train.reranker import config_from_recipe, train_reranker

    index = tmp_path / "index"
    env = PipelineEnv(index_dir=index, registry=ModelRegistry(tmp_path / "models"))
    index_collection(tiny_squad, env=env, overrides=INDEX_OVERRIDES, progress=False)
    cfg = config_from_recipe(
        "quick",
        sources=["candidates"],
        squad_file=str(tiny_squad),
        squad_questions=8,
        candidates_index=str(index),
        candidates_depth=10,
        n_negatives=3,
        dev_file="",
        output_dir=str(tmp_path / "reranker"),
        base_model=small_base,
        max_steps=3,
        batch_size=4,
        loss="bce",
        pos_weight=3.0,
        progress=False,
        threads=1,
        measure_speed=False,
    )
    result = train_reranker(cfg)
    manifest = json.loads((Path(result.output_dir) / "odqa_manifest.json").read_text())
    assert manifest["data"][0]["role"] == "train:candidates" and manifest["data"][0]["counts"]["groups"] >= 8
    assert manifest["hyperparameters"]["loss"] == "bce" and result.steps == 3


def test_candidates_index_is_built_once_under_the_cache(
    tiny_squad: Path, small_base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from odqa.train.reranker import config_from_recipe, train_reranker

    monkeypatch.setenv("ODQA_CACHE_DIR", str(tmp_path / "cache"))
    cfg = config_from_recipe(
        "quick",
        sources=["candidates"],
        squad_file=str(tiny_squad),
        squad_articles=1,
        squad_questions=4,
        candidates_depth=5,
        dev_file="",
        output_dir=str(tmp_path / "reranker"),
        base_model=small_base,
        max_steps=1,
        batch_size=2,
        progress=False,
        threads=1,
        measure_speed=False,
    )
    train_reranker(cfg)
    cache = tmp_path / "cache" / "reranker-candidates"
    (subset,) = cache.glob(f"{tiny_squad.stem}-*-a1-s{cfg.seed}.json")
    assert len(json.loads(subset.read_text())["data"]) == 1
    (index,) = cache.glob(f"{subset.stem}-*-index")  # one per embedder
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["collection"] == str(subset.resolve())
    built = (index / "manifest.json").stat().st_mtime_ns
    train_reranker(cfg)  # reuses the index
    assert (index / "manifest.json").stat().st_mtime_ns == built
    with pytest.raises(ValueError, match="squad_articles must be in"):
        train_reranker(
            config_from_recipe(
                "quick", sources=["candidates"], squad_file=str(tiny_squad), squad_articles=999
            )
        )
