"""The BM25 document store: Haystack protocol, filters, atomic persistence."""

from __future__ import annotations

from pathlib import Path

import pytest
from haystack import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore


def _docs() -> list[Document]:
    return [
        Document(
            id="a#0", content="Warsaw is the capital of Poland", meta={"doc_id": "a", "title": "Warsaw"}
        ),
        Document(
            id="b#0", content="Kraków was the capital of Poland", meta={"doc_id": "b", "title": "Kraków"}
        ),
        Document(id="c#0", content="Tesla moved to New York", meta={"doc_id": "c", "title": "Tesla"}),
    ]


def test_write_search_filter_and_reload(tmp_path: Path) -> None:
    store = EmbeddedBM25DocumentStore(path=str(tmp_path / "bm25"))
    assert store.write_documents(_docs()) == 3
    hits = store.bm25_retrieval("capital of Poland", top_k=5)
    assert {d.id for d in hits} == {"a#0", "b#0"}
    assert store.bm25_retrieval("warsaw", top_k=5)[0].id == "a#0"  # title is indexed too
    only_b = store.bm25_retrieval("capital", filters={"field": "meta.doc_id", "operator": "==", "value": "b"})
    assert [d.id for d in only_b] == ["b#0"]
    store.save()
    again = EmbeddedBM25DocumentStore(path=str(tmp_path / "bm25"))
    assert again.count_documents() == 3
    assert [(d.id, d.score) for d in again.bm25_retrieval("capital of Poland")] == [
        (d.id, d.score) for d in hits
    ]


def test_duplicate_policies() -> None:
    store = EmbeddedBM25DocumentStore()
    store.write_documents(_docs())
    with pytest.raises(DuplicateDocumentError):
        store.write_documents(_docs()[:1], policy=DuplicatePolicy.FAIL)
    assert store.write_documents([Document(id="a#0", content="other text")], policy=DuplicatePolicy.SKIP) == 0
    store.write_documents([Document(id="a#0", content="Gdańsk harbour")], policy=DuplicatePolicy.OVERWRITE)
    assert store.count_documents() == 3
    assert store.bm25_retrieval("Gdańsk")[0].id == "a#0"
    assert all(d.id != "a#0" for d in store.bm25_retrieval("Warsaw"))
    store.delete_documents(["a#0"])
    assert store.count_documents() == 2 and store.bm25_retrieval("Gdańsk") == []


def test_save_without_path_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs a path"):
        EmbeddedBM25DocumentStore().save()


def test_init_reads_nothing_and_warm_up_opens_the_files(tmp_path: Path) -> None:
    store = EmbeddedBM25DocumentStore(path=str(tmp_path / "bm25"))
    store.write_documents(_docs())
    store.save()
    (tmp_path / "bm25" / "documents.jsonl").write_text("{not json\n", encoding="utf-8")
    lazy = EmbeddedBM25DocumentStore.from_dict(store.to_dict())  # no disk I/O while deserialising
    with pytest.raises(ValueError):
        lazy.warm_up()  # the damaged file is found when the store opens
    store.save()
    opened = EmbeddedBM25DocumentStore(path=str(tmp_path / "bm25"))
    opened.warm_up()
    assert opened.count_documents() == 3
