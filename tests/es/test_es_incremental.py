"""The embedded index's add/replace/delete property test, run against Elasticsearch: after random
sequences of writes (overwrite by id) and deletes, the index holds exactly the final collection --
no ghost, no stale version, no duplicate -- and every hit a query returns is a live passage with
its current text. (Score equality with a fresh build is checked on the embedded backend only:
Lucene keeps deleted documents in its term statistics until segments merge, so a real
Elasticsearch index legitimately scores differently from a fresh one until then.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from es_support import needs_server
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.retrievers.es_bm25_retriever import ElasticsearchBM25Retriever
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore

pytestmark = [pytest.mark.integration, needs_server]

Store = Callable[..., OdqaElasticsearchDocumentStore]
QUERIES = ("apple", "blue sky", "the big whale", "red green")


def test_random_writes_and_deletes_leave_exactly_the_final_collection(make_store: Store) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    words = st.sampled_from(["red", "green", "blue", "apple", "sky", "whale", "the", "big", "small"])
    text = st.lists(words, min_size=1, max_size=12).map(" ".join)
    doc_id = st.sampled_from([f"d{i}" for i in range(8)])
    op = st.one_of(
        st.tuples(st.just("add"), st.lists(st.tuples(doc_id, text), min_size=1, max_size=4)),
        st.tuples(st.just("delete"), st.lists(doc_id, min_size=1, max_size=3)),
    )
    store = make_store(analyzer="standard", refresh=True)
    store.check()  # creates the index
    retriever = ElasticsearchBM25Retriever(document_store=store, top_k=10)
    tried = []

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(op, min_size=1, max_size=10))
    def check(ops: list[tuple[str, list]]) -> None:
        tried.append(1)
        current = {d.id for d in store.filter_documents()}
        if current:
            store.delete_documents(sorted(current))
        live: dict[str, str] = {}
        for kind, items in ops:
            if kind == "add":
                batch = dict(items)
                store.write_documents(
                    [Document(id=k, content=v, meta={"doc_id": k}) for k, v in batch.items()],
                    policy=DuplicatePolicy.OVERWRITE,
                )
                live.update(batch)
            else:
                store.delete_documents(items)
                for i in items:
                    live.pop(i, None)
        got = {d.id: d.content for d in store.filter_documents()}
        assert got == live
        assert store.count_documents() == len(live)
        for query in QUERIES:
            hits = retriever.run(query=query)["documents"]
            assert len({h.id for h in hits}) == len(hits)
            for h in hits:
                assert live.get(h.id) == h.content

    check()
    assert len(tried) >= 25
