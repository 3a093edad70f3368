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
