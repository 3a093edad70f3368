"""Fusion: RRF and weighted fusion computed by hand."""

from __future__ import annotations

import pytest
from haystack import Document

from odqa.components.joiners.fusion_joiner import FusionJoiner


def _docs(ids_scores: list[tuple[str, float]]) -> list[Document]:
    return [Document(id=i, content=i, score=s) for i, s in ids_scores]


BM25 = _docs([("a", 12.0), ("b", 10.0), ("c", 3.0)])
DENSE = _docs([("c", 0.9), ("a", 0.8), ("d", 0.1)])


def test_rrf_by_hand() -> None:
    out = FusionJoiner(sources=["bm25", "dense"], mode="rrf", rrf_k=60).run(bm25=BM25, dense=DENSE)[
        "documents"
    ]
    expected = {"a": 1 / 61 + 1 / 62, "c": 1 / 63 + 1 / 61, "b": 1 / 62, "d": 1 / 63}
    assert [d.id for d in out] == ["a", "c", "b", "d"]
    assert {d.id: d.score for d in out} == pytest.approx(expected)


def test_rrf_weights_belong_to_named_sources() -> None:
    joiner = FusionJoiner(sources=["bm25", "dense"], rrf_k=0, weights={"dense": 3.0})
    out = joiner.run(dense=DENSE, bm25=BM25)["documents"]  # argument order is irrelevant
    assert out[0].id == "c" and out[0].score == pytest.approx(1 / 3 + 3 / 1)


def test_weighted_minmax_by_hand() -> None:
    joiner = FusionJoiner(sources=["bm25", "dense"], mode="weighted", weights={"bm25": 0.3, "dense": 0.7})
    out = {d.id: d.score for d in joiner.run(bm25=BM25, dense=DENSE)["documents"]}
    bm = {"a": 1.0, "b": 7 / 9, "c": 0.0}
    de = {"c": 1.0, "a": 0.875, "d": 0.0}
    for k in "abcd":
        assert out[k] == pytest.approx(0.3 * bm.get(k, 0) + 0.7 * de.get(k, 0))


def test_top_k_runtime_override_including_zero() -> None:
    joiner = FusionJoiner(top_k=3)
    assert len(joiner.run(bm25=BM25, dense=DENSE)["documents"]) == 3
    assert joiner.run(bm25=BM25, dense=DENSE, top_k=0)["documents"] == []


def test_empty_and_missing_lists() -> None:
    assert FusionJoiner().run(bm25=[], dense=[])["documents"] == []
    assert [d.id for d in FusionJoiner().run(bm25=BM25, dense=[])["documents"]] == ["a", "b", "c"]


def test_round_trip_and_validation() -> None:
    j = FusionJoiner(
        sources=["x", "y", "z"], mode="weighted", weights={"x": 2.0}, normalization="zscore", top_k=7
    )
    again = FusionJoiner.from_dict(j.to_dict())
    assert again.to_dict() == j.to_dict()
    with pytest.raises(ValueError, match="unknown sources"):
        FusionJoiner(sources=["a"], weights={"b": 1.0})
    with pytest.raises(ValueError, match="mode"):
        FusionJoiner(mode="borda")
