"""Re-ranker examples (SQuAD, BEIR, MS MARCO), losses and ranking metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from odqa.components.stores.bm25_index import BM25Index
from odqa.corpus.squad import read_squad
from odqa.eval.qa import answer_in_passages
from odqa.train.data import beir_groups, msmarco_groups, read_triples, squad_groups
from odqa.train.reranker import bce_loss, collate_groups, encode_groups, listwise_loss, ranking_metrics


def test_squad_groups_hard_negatives_without_the_answer(tiny_squad: Path) -> None:
    groups = squad_groups(tiny_squad, n_negatives=3, max_questions=20, seed=1)
    _, examples = read_squad(tiny_squad, progress=False)
    by_qid = {ex.qid: ex for ex in examples}
    assert len(groups) == 20
    for g in groups:
        ex = by_qid[g.qid]
        assert g.query == ex.question and g.positive == ex.context
        assert len(g.negatives) == 3
        assert ex.context not in g.negatives
        assert not any(answer_in_passages([n], ex.answers, 1) for n in g.negatives)
    assert squad_groups(tiny_squad, 3, 20, seed=1) == groups  # seeded


def test_squad_negatives_are_the_best_bm25_hits(tiny_squad: Path) -> None:
    docs, examples = read_squad(tiny_squad, progress=False)
    groups = squad_groups(tiny_squad, n_negatives=2, max_questions=5, seed=3)
    index = BM25Index()
    index.add([d.doc_id for d in docs], [d.text for d in docs])
    text = {d.doc_id: d.text for d in docs}
    by_qid = {ex.qid: ex for ex in examples}
    for g in groups:
        ex = by_qid[g.qid]
        hits = [text[i] for i, _ in index.search(g.query, top_k=20) if i != ex.doc_id]
        hits = [h for h in hits if not answer_in_passages([h], ex.answers, 1)]
        assert list(g.negatives) == hits[:2]


def _write_beir(root: Path) -> Path:
    docs = {
        "d1": ("Aspirin", "Aspirin reduces the risk of heart attack in adults."),
        "d2": ("Heart", "Heart attack risk rises with age and smoking."),
        "d3": ("Coffee", "Coffee contains caffeine, a mild stimulant."),
        "d4": ("Tea", "Tea also contains caffeine and antioxidants."),
        "d5": ("Rain", "Rain falls when clouds are saturated."),
    }
    root.mkdir()
    with (root / "corpus.jsonl").open("w") as f:
        for i, (title, text) in docs.items():
            f.write(json.dumps({"_id": i, "title": title, "text": text, "metadata": {}}) + "\n")
    with (root / "queries.jsonl").open("w") as f:
        f.write(json.dumps({"_id": "q1", "text": "does aspirin lower heart attack risk"}) + "\n")
        f.write(json.dumps({"_id": "q2", "text": "which drinks contain caffeine"}) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq2\td4\t1\n")
    return root


def test_beir_groups(tmp_path: Path) -> None:
    groups = beir_groups(_write_beir(tmp_path / "beir"), "train", n_negatives=2, max_queries=None, seed=0)
    assert sorted((g.qid, g.positive.split("\n")[0]) for g in groups) == [
        ("q1", "Aspirin"),
        ("q2", "Coffee"),
        ("q2", "Tea"),
    ]
    q1 = next(g for g in groups if g.qid == "q1")
    assert q1.negatives[0].startswith("Heart")  # the BM25-hardest non-relevant document
    for g in groups:
        assert len(g.negatives) == 2 and g.positive not in g.negatives
        if g.qid == "q2":
            assert not any(n.startswith(("Coffee", "Tea")) for n in g.negatives)


def test_beir_groups_from_candidates_train_half_never_a_judged_negative(tmp_path: Path) -> None:
    root = _write_beir(tmp_path / "beir")
    seen: list[str] = []

    def candidates(query: str) -> list[str]:  # a ranked list as the hybrid graph gives it
        seen.append(query)
        return ["d4", "d3", "d1", "d2", "d5"]

    groups = beir_groups(
        root, "train", n_negatives=3, max_queries=None, seed=0, qids=["q2"], candidates=candidates, n_random=1
    )
    assert seen == ["which drinks contain caffeine"]  # only the queries asked for
    assert sorted(g.positive.split("\n")[0] for g in groups) == ["Coffee", "Tea"]
    for g in groups:
        heads = [n.split("\n")[0] for n in g.negatives]
        # the best unjudged candidates first (d3, d4 are judged for q2), then one random document
        assert heads[:2] == ["Aspirin", "Heart"] and heads[2] == "Rain" and len(heads) == 3


def test_msmarco_groups(data_dir: Path) -> None:
    path = data_dir / "msmarco" / "triples.train.small.first1000.tsv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    grouped = read_triples(path)
    assert 990 <= len(grouped) <= 1000
    groups = msmarco_groups(path, n_negatives=3, max_queries=10, seed=0)
    assert len(groups) >= 10
    for g in groups:
        positives, negatives = grouped[g.query]
        assert g.positive in positives
        assert g.negatives[0] in negatives  # the file's own negative first, then mined ones
        assert len(g.negatives) == 3 and not set(g.negatives) & set(positives)


def test_collate_and_listwise_loss(tokenizer: object, tiny_squad: Path) -> None:
    groups = squad_groups(tiny_squad, n_negatives=2, max_questions=2, seed=0)
    encoded = encode_groups(tokenizer, groups, max_length=64)
    batch = collate_groups(encoded, pad_id=0)
    assert batch["input_ids"].shape == (6, max(len(p["input_ids"]) for g in encoded for p in g))
    assert batch["group_sizes"].tolist() == [3, 3]

    scores = torch.tensor([5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 1.0, 1.0])
    good = listwise_loss(scores[:3], [3])
    bad = listwise_loss(torch.tensor([0.0, 5.0, 0.0]), [3])
    assert good < bad
    # uneven groups: [pos, neg] and [pos, neg, neg, neg]; padding must not leak into the loss
    uneven = listwise_loss(torch.tensor([2.0, 0.0, 2.0, 0.0, 0.0, 0.0]), [2, 4])
    expected = (
        listwise_loss(torch.tensor([2.0, 0.0]), [2]) + listwise_loss(torch.tensor([2.0, 0, 0, 0]), [4])
    ) / 2
    torch.testing.assert_close(uneven, expected)
    assert bce_loss(torch.tensor([4.0, -4.0, -4.0]), [3]) < bce_loss(torch.tensor([-4.0, 4.0, 4.0]), [3])


def test_ranking_metrics() -> None:
    m = ranking_metrics([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0], [0.0, 0.0]])
    # ranks 1, 3 and 2 (a tie counts against the positive)
    assert m["accuracy"] == pytest.approx(1 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert m["groups"] == 3
    assert ranking_metrics([[0.0] + [1.0] * 10], k=10)["mrr@10"] == 0.0
