"""The dense retriever's DPR-style trainer: a tiny real run on a mini SciFact (real MiniLM, real
index for mining), its split, its negatives and its card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.train.retriever import config_from_recipe, mine_rows, train_retriever


def test_mined_negatives_are_never_judged_relevant(
    mini_scifact: Path, minilm_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from odqa.corpus.qrels import read_qrels

    monkeypatch.setenv("ODQA_CACHE_DIR", str(tmp_path / "cache"))
    qrels = read_qrels(mini_scifact / "qrels" / "train.tsv")
    cfg = config_from_recipe("quick", hard_negatives=2, progress=False)
    rows = mine_rows(cfg, mini_scifact, sorted(qrels), minilm_path)
    texts = {}
    for line in (mini_scifact / "corpus.jsonl").read_text().splitlines():
        d = json.loads(line)
        texts[d["_id"]] = f"{d['title']}\n{d['text']}" if d.get("title") else d["text"]
    queries = {
        json.loads(x)["text"]: json.loads(x)["_id"]
        for x in (mini_scifact / "queries.jsonl").read_text().splitlines()
    }
    assert len(rows) == sum(1 for q in qrels for d, g in qrels[q].items() if g > 0 and d in texts)
    for row in rows:
        relevant = {texts[d] for d, g in qrels[queries[row["anchor"]]].items() if g > 0 and d in texts}
        assert row["positive"] in relevant
        assert {row["negative_1"], row["negative_2"]}.isdisjoint(relevant)
    built = list((tmp_path / "cache" / "retriever-mining").glob("mini-scifact-*-index/manifest.json"))
    assert len(built) == 1  # one index per embedder


def test_a_tiny_run_learns_saves_scores_dev_and_reindexes(
    mini_scifact: Path, minilm_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentence_transformers import SentenceTransformer

    from odqa.models import ModelRegistry
    from odqa.pipelines.env import IndexMismatchError, PipelineEnv, open_runner
    from odqa.pipelines.indexing import reembed_index

    monkeypatch.setenv("ODQA_CACHE_DIR", str(tmp_path / "cache"))
    cfg = config_from_recipe(
        "quick",
        beir_dir=str(mini_scifact),
        base_model=minilm_path,
        output_dir=str(tmp_path / "retriever"),
        max_steps=8,  # 4 passes over the 6 training queries' rows
        batch_size=4,
        lr=1e-4,
        warmup=0,
        progress=False,
        measure_speed=False,
    )
    result = train_retriever(cfg)
    assert result.steps == 8 and result.final_loss is not None and result.final_loss > 0
    losses = [loss for _, loss in result.extra["loss_history"]]
    assert len(losses) == 8 and sum(losses[-2:]) < sum(losses[:2])  # the in-batch loss falls
    assert 0.0 <= result.dev_metrics["cosine_ndcg@10"] <= 1.0
    assert 0.0 <= result.extra["dev_before"]["cosine_ndcg@10"] <= 1.0  # the stock model, same queries
    assert result.extra["dev_queries"] == 6 and result.extra["train_queries"] == 6
    model = SentenceTransformer(str(tmp_path / "retriever"), device="cpu")
    assert model.encode(["a query"]).shape == (1, 384)
    manifest = json.loads((tmp_path / "retriever" / "odqa_manifest.json").read_text())
    assert manifest["odqa_model"] == "embedder" and manifest["base_model"] == minilm_path

    # the model re-indexes (the vectors of the mining index, BM25 kept) and retrieves
    (index,) = [p.parent for p in (tmp_path / "cache" / "retriever-mining").glob("*-index/manifest.json")]
    tuned = ModelRegistry(tmp_path / "models", overrides={"embedder": str(tmp_path / "retriever")})
    report = reembed_index(env=PipelineEnv(index_dir=index, registry=tuned), progress=False)
    assert report.passages > 0 and report.embedder == str(tmp_path / "retriever")
    query = json.loads((mini_scifact / "queries.jsonl").read_text().splitlines()[0])["text"]
    hits = open_runner(PipelineEnv(index_dir=index, registry=tuned), "dense").run(query).final_documents
    assert hits and all(h.score is not None for h in hits)
    stock = ModelRegistry(tmp_path / "models", overrides={"embedder": minilm_path})
    with pytest.raises(IndexMismatchError, match="retriever"):
        open_runner(PipelineEnv(index_dir=index, registry=stock), "dense")
