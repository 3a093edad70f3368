"""The Elasticsearch store against a real server: index layout, idempotent writes, fresh builds
behind an alias, and precise bulk failure reports."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from es_support import needs_server
from haystack import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.stores.es_bulk import EsBulkError
from odqa.components.stores.es_document_store import EsIndexMissingError, OdqaElasticsearchDocumentStore

pytestmark = [pytest.mark.integration, needs_server]

Store = Callable[..., OdqaElasticsearchDocumentStore]


def passages(n: int, prefix: str = "d") -> list[Document]:
    return [
        Document(
            id=f"{prefix}{i}#0",
            content=f"passage number {i} about topic {i % 3}",
            meta={"doc_id": f"{prefix}{i}", "title": f"Title {i}", "passage_no": 0, "year": 2000 + i},
        )
        for i in range(n)
    ]


def all_ids(store: OdqaElasticsearchDocumentStore) -> list[str]:
    return sorted(d.id for d in store.filter_documents())


def test_index_is_created_with_analyzer_and_bm25_settings(make_store: Store) -> None:
    store = make_store(analyzer="english", k1=0.9, b=0.4)
    store.check()
    info = store.index_info()
    assert (info["analyzer"], info["k1"], info["b"], info["shards"]) == ("english", 0.9, 0.4, 1)
    assert info["physical_index"].startswith(f"{store.index_name}--")
    assert info["documents"] == 0


def test_documents_round_trip_with_meta_and_stable_ids(make_store: Store) -> None:
    store = make_store()
    docs = passages(3)
    assert store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE) == 3
    got = {d.id: d for d in store.filter_documents()}
    assert set(got) == {d.id for d in docs}
    for d in docs:
        assert got[d.id].content == d.content
        assert got[d.id].meta == d.meta  # the combined search field is not exposed
        assert got[d.id].embedding is None


def test_rewriting_is_idempotent(make_store: Store) -> None:
    store = make_store(chunk_size=4)
    docs = passages(10)
    store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
    changed = [Document(id=d.id, content=f"{d.content} revised", meta=d.meta) for d in docs[:5]]
    assert store.write_documents(changed + docs[5:], policy=DuplicatePolicy.OVERWRITE) == 10
    assert store.count_documents() == 10
    assert all_ids(store) == sorted(d.id for d in docs)
    assert sum("revised" in (d.content or "") for d in store.filter_documents()) == 5


def test_duplicate_policies(make_store: Store) -> None:
    store = make_store()
    docs = passages(3)
    store.write_documents(docs[:2], policy=DuplicatePolicy.OVERWRITE)
    assert store.write_documents(docs, policy=DuplicatePolicy.SKIP) == 1
    with pytest.raises(DuplicateDocumentError, match="d0#0"):
        store.write_documents(docs[:1], policy=DuplicatePolicy.FAIL)
    assert store.count_documents() == 3


def test_query_side_store_does_not_create_a_missing_index(make_store: Store) -> None:
    with pytest.raises(EsIndexMissingError, match="no index"):
        make_store(create_index=False).check()


def test_fresh_build_is_invisible_until_committed_then_replaces_the_old_index(make_store: Store) -> None:
    store = make_store()
    store.write_documents(passages(4, "old"), policy=DuplicatePolicy.OVERWRITE)
    first_physical = store.index_info()["physical_index"]

    staging = store.begin_build()
    store.write_documents(passages(6, "new"), policy=DuplicatePolicy.OVERWRITE)
    store.save()  # IndexWriter calls this after each chunk: must not expose the staging index
    reader = make_store(create_index=False)
    assert reader.count_documents() == 4  # searches still see the old index

    store.commit_build()
    assert all_ids(reader) == sorted(d.id for d in passages(6, "new"))
    info = store.index_info()
    assert info["physical_index"] == staging
    assert not store.client.indices.exists(index=first_physical)


def test_aborted_build_leaves_the_live_index_and_leftovers_are_cleaned(make_store: Store) -> None:
    store = make_store()
    store.write_documents(passages(2, "live"), policy=DuplicatePolicy.OVERWRITE)
    store.begin_build()
    store.write_documents(passages(3, "partial"), policy=DuplicatePolicy.OVERWRITE)
    store.abort_build()
    assert all_ids(store) == ["live0#0", "live1#0"]
    # a crashed build (no abort) leaves its staging index; the next build deletes it
    crashed = store.begin_build()
    store._write_index = None  # the process died here
    other = make_store()
    other.begin_build()
    assert not store.client.indices.exists(index=crashed)
    other.abort_build()


def test_rejected_documents_are_reported_by_id_and_others_written(make_store: Store) -> None:
    store = make_store(chunk_size=3, max_retries=1, initial_backoff=0.05)
    docs = passages(7)
    bad = Document(
        id="bad#0", content="wrong type", meta={"doc_id": "bad", "title": "x", "year": "not a year"}
    )
    store.write_documents(docs[:1], policy=DuplicatePolicy.OVERWRITE)  # maps "year" as a number
    with pytest.raises(EsBulkError) as err:
        store.write_documents([*docs[1:4], bad, *docs[4:]], policy=DuplicatePolicy.OVERWRITE)
    assert [f.id for f in err.value.failed] == ["bad#0"] and err.value.unwritten == []
    assert err.value.failed[0].status == 400 and "year" in err.value.failed[0].error
    assert "bad#0" in str(err.value) and err.value.written == 6
    store.save()
    assert store.count_documents() == 7
    # resume: fix the document, write everything again -> no duplicates
    fixed = Document(id="bad#0", content="right type", meta={"doc_id": "bad", "title": "x", "year": 1999})
    store.write_documents([*docs, fixed], policy=DuplicatePolicy.OVERWRITE)
    assert all_ids(store) == sorted([d.id for d in docs] + ["bad#0"])
