"""The embedded BM25 index against Lucene's formula, by hand and on a real collection."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from odqa.components.stores import lucene
from odqa.components.stores.analysis import english_tokens, standard_tokens
from odqa.components.stores.bm25_index import BM25Index


def _sweet_love(seeds_dir: Path) -> tuple[BM25Index, dict]:
    expected = json.loads((seeds_dir / "sweet_love" / "expected_bm25.json").read_text())
    docs = [json.loads(line) for line in (seeds_dir / "sweet_love" / "corpus.jsonl").read_text().splitlines()]
    index = BM25Index(k1=expected["k1"], b=expected["b"], analyzer=expected["analyzer"])
    index.add([d["_id"] for d in docs], [d["text"] for d in docs])
    return index, expected


def test_sweet_love_scores_equal_hand_computation(seeds_dir: Path) -> None:
    index, expected = _sweet_love(seeds_dir)
    hits = dict(index.search(expected["query"], top_k=10))
    for doc_id, score in expected["scores"].items():
        if score == 0:
            assert doc_id not in hits
        else:
            assert hits[doc_id] == pytest.approx(score, abs=1e-5)
    assert [d for d, _ in index.search(expected["query"], top_k=10)] == ["d1", "d3", "d2"]


def test_idf_is_lucene_idf() -> None:
    assert lucene.idf([3], 4)[0] == pytest.approx(math.log(1 + 1.5 / 3.5))
    assert lucene.idf([2], 4)[0] == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("length", "decoded"),
    [(0, 0), (1, 1), (23, 23), (24, 24), (25, 25), (40, 40), (41, 40), (100, 96), (1000, 984)],
)
def test_lucene_length_quantisation(length: int, decoded: int) -> None:
    assert lucene.byte4_to_int(lucene.int_to_byte4(length)) == decoded


def test_length_table_is_monotone_and_lossy_above_24() -> None:
    table = lucene.LENGTH_TABLE
    assert np.all(np.diff(table) > 0)
    assert len({lucene.byte4_to_int(lucene.int_to_byte4(n)) for n in range(24, 200)}) < 176


def test_quantised_long_document_score_matches_formula() -> None:
    index = BM25Index(k1=1.2, b=0.75)
    long_doc = " ".join(["alpha"] * 3 + ["filler"] * 97)  # 100 tokens -> Lucene stores 96
    index.add(["long", "short"], [long_doc, "alpha beta"])
    avgdl = (100 + 2) / 2
    idf = math.log(1 + (2 - 2 + 0.5) / (2 + 0.5))
    expected = idf * 3 / (3 + 1.2 * (0.25 + 0.75 * 96 / avgdl))
    assert dict(index.search("alpha", 5))["long"] == pytest.approx(expected, rel=1e-6)


def test_ties_break_by_doc_id_descending_and_repeated_terms_count() -> None:
    index = BM25Index()
    index.add(["a", "c", "b"], ["same text", "same text", "same text"])
    assert [d for d, _ in index.search("same", 3)] == ["c", "b", "a"]
    once = dict(index.search("same", 1))["c"]
    twice = dict(index.search("same same", 1))["c"]
    assert twice == pytest.approx(2 * once)


def test_replace_delete_mask_and_persistence(tmp_path: Path) -> None:
    index = BM25Index()
    index.add(["x", "y"], ["red apple", "green apple"])
    index.add(["x"], ["blue sky"])  # replaces x
    assert [d for d, _ in index.search("apple", 5)] == ["y"]
    index.delete(["y"])
    assert index.search("apple", 5) == []
    assert len(index) == 1
    index.add(["z"], ["blue whale"])
    mask = np.array([index.row_of(i) is not None and i == "z" for i in index.ids])
    assert [d for d, _ in index.search("blue", 5, mask=mask)] == ["z"]
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    assert loaded.search("blue", 5) == index.search("blue", 5)


def test_analyzers() -> None:
    assert standard_tokens("The U.S.A. GDP, don't 3.14!") == ["the", "u.s.a", "gdp", "don't", "3.14"]
    assert english_tokens("The running dogs' owner's cars") == ["run", "dog", "owner", "car"]


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError, match="k1"):
        BM25Index(k1=-1)
    with pytest.raises(ValueError, match="analyzer"):
        BM25Index(analyzer="klingon")


def test_scores_match_bm25s_lucene_without_quantisation(data_dir: Path) -> None:
    """Cross-check on real text: with length quantisation off, bm25s' 'lucene' method and ours agree."""
    bm25s = pytest.importorskip("bm25s")
    with open(data_dir / "cisi" / "corpus.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh][:300]
    texts = [d["text"] for d in docs]
    ours = BM25Index(k1=1.2, b=0.75, lucene_norms=False)
    ours.add([d["_id"] for d in docs], texts)
    corpus_tokens = [standard_tokens(t) for t in texts]
    ref = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    ref.index(corpus_tokens, show_progress=False)
    query = "information retrieval systems for libraries"
    ref_scores = ref.get_scores(standard_tokens(query))
    our_scores = ours.scores(query)
    assert np.allclose(our_scores, ref_scores, rtol=1e-4, atol=1e-5)


def test_any_sequence_of_adds_replaces_and_deletes_scores_like_a_fresh_build(tmp_path: Path) -> None:
    """Property test (hypothesis, fixed budget): after random add/replace/delete sequences (and a
    save/load), every query scores exactly as in an index built fresh from the final collection:
    N, avgdl and df are those of the live documents only."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["red", "green", "blue", "apple", "sky", "whale", "the", "big", "small"])
    text = st.lists(words, min_size=1, max_size=12).map(" ".join)
    doc_id = st.sampled_from([f"d{i}" for i in range(8)])
    op = st.one_of(
        st.tuples(st.just("add"), st.lists(st.tuples(doc_id, text), min_size=1, max_size=4)),
        st.tuples(st.just("delete"), st.lists(doc_id, min_size=1, max_size=3)),
    )
    tried = []

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(op, min_size=1, max_size=12), st.booleans())
    def check(ops: list[tuple[str, list]], reload: bool) -> None:
        tried.append(1)
        index, live = BM25Index(), {}
        for kind, items in ops:
            if kind == "add":
                batch = dict(items)  # one text per id within a batch
                index.add(list(batch), list(batch.values()))
                live.update(batch)
            else:
                index.delete(items)
                for i in items:
                    live.pop(i, None)
        if reload:
            index.save(tmp_path)
            index = BM25Index.load(tmp_path)
        fresh = BM25Index()
        if live:
            fresh.add(list(live), list(live.values()))
        assert len(index) == len(live)
        for query in ("apple", "blue sky", "the big whale", "red green"):
            got = dict(index.search(query, 10))
            want = dict(fresh.search(query, 10))
            assert got.keys() == want.keys()
            for k in want:
                assert abs(got[k] - want[k]) <= 1e-6

    check()
    assert len(tried) >= 150
