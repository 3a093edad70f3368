"""Elasticsearch BM25 retrieval against a real server, compared with the embedded index (the
same documents, analyzer and k1/b)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from es_support import needs_server, standin_differs
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.retrievers.bm25_retriever import EmbeddedBM25Retriever
from odqa.components.retrievers.es_bm25_retriever import ElasticsearchBM25Retriever
from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore

pytestmark = [pytest.mark.integration, needs_server]

Store = Callable[..., OdqaElasticsearchDocumentStore]

TEXTS = {
    "d01": ("Romeo", "Sweet love, sweet sorrow. The running dogs of war."),
    "d02": ("Warsaw", "Warsaw is the capital of Poland; the city was founded in the 13th century."),
    "d03": ("Dogs", "Dogs run. A dog runs faster than the cat that is running away from the dogs."),
    "d04": ("Filler", " ".join(["filler"] * 60) + " love"),
    "d05": ("Poland", "Poland's capital city Warsaw lies on the Vistula river."),
    "d06": ("Tesla", "Nikola Tesla was born in 1856 in Smiljan and worked on alternating current."),
    "d07": ("Current", "Alternating current (AC) reverses direction; direct current does not."),
    "d08": ("Sorrow", "sorrow sorrow sorrow love running runs ran"),
    "d09": ("Twin", "identical twin passage about rivers"),
    "d10": ("Twin", "identical twin passage about rivers"),
    "d11": ("Abbrev", "The U.S.A. and the U.K. signed it in 1945; it's 3.14 percent."),
    "d12": ("Empty-ish", "nothing to see here"),
}
QUERIES = [
    "love sorrow",
    "running dogs",
    "the capital of Poland",
    "who founded warsaw",
    "alternating current tesla",
    "twin rivers",
    "U.S.A. 1945",
    "filler love",
]


def documents() -> list[Document]:
    return [
        Document(
            id=i, content=text, meta={"doc_id": i, "title": title, "lang": "de" if i in {"d05"} else "en"}
        )
        for i, (title, text) in TEXTS.items()
    ]


def pair(
    make_store: Store, analyzer: str, k1: float, b: float
) -> tuple[ElasticsearchBM25Retriever, EmbeddedBM25Retriever]:
    es = make_store(analyzer=analyzer, k1=k1, b=b)
    es.write_documents(documents(), policy=DuplicatePolicy.OVERWRITE)
    emb = EmbeddedBM25DocumentStore(analyzer=analyzer, k1=k1, b=b)
    emb.write_documents(documents())
    return ElasticsearchBM25Retriever(document_store=es, top_k=20), EmbeddedBM25Retriever(
        document_store=emb, top_k=20
    )


def ranking(docs: list[Document]) -> list[str]:
    return [d.id for d in docs]


@pytest.mark.parametrize("analyzer", ["standard", "english"])
def test_rankings_equal_embedded_bm25_at_elasticsearch_defaults(make_store: Store, analyzer: str) -> None:
    es, emb = pair(make_store, analyzer, 1.2, 0.75)
    for q in QUERIES:
        assert ranking(es.run(q)["documents"]) == ranking(emb.run(q)["documents"]), q


@standin_differs("ignores the index 'similarity' settings (always k1=1.2, b=0.75)")
def test_rankings_follow_k1_and_b_from_the_index_settings(make_store: Store) -> None:
    # no length normalisation (b=0) and slow saturation (k1=3): the long 'filler ... love' passage
    # ties with short ones, repeated terms count for more -- rankings that the defaults do not give
    es, emb = pair(make_store, "standard", 3.0, 0.0)
    defaults = EmbeddedBM25DocumentStore(analyzer="standard", k1=1.2, b=0.75)
    defaults.write_documents(documents())
    differs = [
        q
        for q in QUERIES
        if ranking(emb.run(q)["documents"]) != ranking(defaults.bm25_retrieval(q, top_k=20))
    ]
    assert differs, "the test corpus must tell k1=3, b=0 from the defaults"
    for q in QUERIES:
        assert ranking(es.run(q)["documents"]) == ranking(emb.run(q)["documents"]), q


@standin_differs("scores with the pre-Lucene-8 formula: every score x (k1 + 1)")
@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75)])
def test_scores_equal_lucene_bm25(make_store: Store, k1: float, b: float) -> None:
    es, emb = pair(make_store, "english", k1, b)
    for q in QUERIES:
        got = {d.id: d.score for d in es.run(q)["documents"]}
        want = {d.id: d.score for d in emb.run(q)["documents"]}
        assert got == pytest.approx(want, rel=1e-5), q


def test_english_analyzer_stems_and_drops_stop_words_standard_does_not(make_store: Store) -> None:
    es_en, _ = pair(make_store, "english", 1.2, 0.75)
    assert "d03" in ranking(es_en.run("runner running")["documents"])  # run/runs/running -> run
    assert es_en.run("the of")["documents"] == []  # stop words only
    std = make_store(index=es_en.document_store.index_name + "-std", analyzer="standard")
    try:
        std.write_documents(documents(), policy=DuplicatePolicy.OVERWRITE)
        r = ElasticsearchBM25Retriever(document_store=std)
        assert "d03" not in ranking(r.run("runner")["documents"])
        assert r.run("the of")["documents"]
    finally:
        for name in std.client.indices.get_alias(name=std.index_name).body:
            std.client.indices.delete(index=name)


def test_no_fuzziness_by_default(make_store: Store) -> None:
    store = make_store()
    store.write_documents(documents(), policy=DuplicatePolicy.OVERWRITE)
    assert ElasticsearchBM25Retriever(document_store=store).run("warsw")["documents"] == []
    fuzzy = ElasticsearchBM25Retriever(document_store=store, fuzziness="AUTO")
    assert {"d02", "d05"} <= set(ranking(fuzzy.run("warsw")["documents"]))


def test_filters_restrict_without_changing_scores(make_store: Store) -> None:
    es, _ = pair(make_store, "standard", 1.2, 0.75)
    everything = {d.id: d.score for d in es.run("warsaw capital")["documents"]}
    only_en = es.run("warsaw capital", filters={"field": "meta.lang", "operator": "==", "value": "en"})
    assert {d.id: d.score for d in only_en["documents"]} == {
        k: v for k, v in everything.items() if k != "d05"
    }
    by_title = es.run("warsaw", filters={"field": "meta.title", "operator": "in", "value": ["Poland"]})
    assert ranking(by_title["documents"]) == ["d05"]


def test_boost_phrases_lift_documents_containing_them(make_store: Store) -> None:
    es, _ = pair(make_store, "standard", 1.2, 0.75)
    plain = ranking(es.run("alternating current")["documents"])
    assert plain[0] == "d07"  # 'current' twice
    boosted = es.run("alternating current", boosts={"Nikola Tesla": 3.0})["documents"]
    assert ranking(boosted)[0] == "d06"
    # a boost phrase adds score but never admits documents the query does not match
    assert set(ranking(es.run("current", boosts={"Sweet love": 5.0})["documents"])) == {"d06", "d07"}


def test_ties_are_ordered_by_id_descending_like_the_embedded_index(make_store: Store) -> None:
    es, emb = pair(make_store, "standard", 1.2, 0.75)
    got = ranking(es.run("identical twin")["documents"])
    assert got[:2] == ["d10", "d09"] == ranking(emb.run("identical twin")["documents"])[:2]
    assert ranking(es.run("identical twin", top_k=1)["documents"]) == ["d10"]


def test_top_k_and_scores(make_store: Store) -> None:
    es, _ = pair(make_store, "standard", 1.2, 0.75)
    docs = es.run("love sorrow running", top_k=2)["documents"]
    assert len(docs) == 2 and docs[0].score is not None and docs[0].score >= (docs[1].score or 0) > 0
    assert docs[0].meta["title"] and "odqa_text" not in docs[0].meta
