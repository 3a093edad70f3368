"""RerankedHeadJoiner: the re-ranked head on top, the unseen candidates after it, scores decreasing."""

from __future__ import annotations

import pytest
from haystack import Document

from odqa.components.joiners.reranked_head_joiner import RerankedHeadJoiner


def _docs(ids: str, scores: list[float]) -> list[Document]:
    return [Document(id=i, content=f"text {i}", score=s) for i, s in zip(ids, scores, strict=True)]


def test_head_first_then_the_tail_in_candidate_order() -> None:
    candidates = _docs("abcdef", [0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    head = _docs("cab", [0.99, 0.5, 0.1])  # the re-ranker's order of the first three
    out = RerankedHeadJoiner().run(head=head, candidates=candidates)["documents"]
    assert [d.id for d in out] == ["c", "a", "b", "d", "e", "f"]
    scores = [d.score for d in out]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert out[0].score == 0.99 and out[3].score == pytest.approx(0.1 - 1)
    assert out[3].meta["candidate_score"] == 0.6 and "candidate_score" not in out[0].meta


def test_top_k_cuts_and_empty_inputs() -> None:
    candidates = _docs("abcd", [4.0, 3.0, 2.0, 1.0])
    out = RerankedHeadJoiner(top_k=3).run(head=_docs("b", [0.3]), candidates=candidates)["documents"]
    assert [d.id for d in out] == ["b", "a", "c"]
    assert RerankedHeadJoiner().run(head=[], candidates=[])["documents"] == []
    tail_only = RerankedHeadJoiner().run(head=[], candidates=candidates)["documents"]
    assert [d.id for d in tail_only] == list("abcd") and tail_only[0].score == -1.0
    with pytest.raises(ValueError, match="top_k"):
        RerankedHeadJoiner(top_k=0)


def test_candidate_weight_fuses_the_two_orders_in_the_head() -> None:
    candidates = _docs("bxca", [0.9, 0.8, 0.7, 0.6])
    head = _docs("abc", [0.99, 0.5, 0.1])  # the re-ranker's order
    # b: 1/62 + 1/61 = .032522; a: 1/61 + 1/64 = .032018; c: 1/63 + 1/63 = .031746
    out = RerankedHeadJoiner(candidate_weight=1.0).run(head=head, candidates=candidates)["documents"]
    assert [d.id for d in out] == ["b", "a", "c", "x"]
    assert out[0].score == pytest.approx(1 / 62 + 1 / 61) and out[0].meta["ranker_score"] == 0.5
    scores = [d.score for d in out]
    assert scores == sorted(scores, reverse=True)
    # a large weight follows the candidates' order; no weight keeps the re-ranker's
    heavy = RerankedHeadJoiner(candidate_weight=100.0).run(head=head, candidates=candidates)["documents"]
    assert [d.id for d in heavy][:3] == ["b", "c", "a"]
    plain = RerankedHeadJoiner().run(head=head, candidates=candidates)["documents"]
    assert [d.id for d in plain] == ["a", "b", "c", "x"] and plain[0].score == 0.99
    # a head document missing from the candidates ranks after all of them
    odd = RerankedHeadJoiner(candidate_weight=1.0).run(head=_docs("zb", [0.9, 0.1]), candidates=candidates)
    assert [d.id for d in odd["documents"]][:2] == ["b", "z"]
    with pytest.raises(ValueError, match="candidate_weight"):
        RerankedHeadJoiner(candidate_weight=-1)
    with pytest.raises(ValueError, match="rrf_k"):
        RerankedHeadJoiner(rrf_k=0)


def test_round_trips_through_to_dict() -> None:
    joiner = RerankedHeadJoiner(top_k=50, candidate_weight=1.0, rrf_k=30)
    again = RerankedHeadJoiner.from_dict(joiner.to_dict())
    assert (again.top_k, again.candidate_weight, again.rrf_k) == (50, 1.0, 30)
    assert again.to_dict() == joiner.to_dict()
