"""odqa's FAISS store: cosine scores, query-time parameters, trainable indexes, atomic saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from haystack import Document
from haystack.document_stores.errors import DocumentStoreError

from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore


def _docs(n: int = 200, dim: int = 16, seed: int = 0) -> tuple[list[Document], np.ndarray]:
    vecs = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    docs = [
        Document(id=f"d{i}", content=f"doc {i}", embedding=vecs[i].tolist(), meta={"parity": i % 2})
        for i in range(n)
    ]
    return docs, vecs


def test_cosine_scores_equal_numpy() -> None:
    docs, vecs = _docs()
    store = OdqaFAISSDocumentStore(embedding_dim=16)
    store.write_documents(docs)
    q = vecs[7] + 0.1
    hits = store.search(q.tolist(), top_k=5)
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    cos = unit @ (q / np.linalg.norm(q))
    best = np.argsort(-cos)[:5]
    assert [d.id for d in hits] == [f"d{i}" for i in best]
    assert [d.score for d in hits] == pytest.approx(cos[best].tolist(), abs=1e-5)
    assert all(d.embedding is None for d in store.filter_documents())  # vectors live in the index only


def test_save_load_round_trip(tmp_path: Path) -> None:
    docs, vecs = _docs()
    store = OdqaFAISSDocumentStore(
        path=str(tmp_path / "faiss"), embedding_dim=16, index_string="HNSW16", search_params={"efSearch": 64}
    )
    store.write_documents(docs)
    store.save()
    assert sorted(p.name for p in (tmp_path / "faiss").iterdir()) == [
        "documents.jsonl",
        "ids.json",
        "index.faiss",
        "manifest.json",
    ]
    loaded = OdqaFAISSDocumentStore.from_dict(store.to_dict())
    assert loaded.count_documents() == 200
    for i in (0, 50, 199):
        a = store.search(vecs[i].tolist(), top_k=3)
        b = loaded.search(vecs[i].tolist(), top_k=3)
        assert [d.id for d in a] == [d.id for d in b] and a[0].id == f"d{i}"
        assert b[0].meta == {"parity": i % 2}


def test_filters_post_filter_correctly() -> None:
    docs, vecs = _docs()
    store = OdqaFAISSDocumentStore(embedding_dim=16)
    store.write_documents(docs)
    hits = store.search(
        vecs[3].tolist(), top_k=5, filters={"field": "meta.parity", "operator": "==", "value": 0}
    )
    assert len(hits) == 5 and all(d.meta["parity"] == 0 for d in hits)


def test_ivf_index_is_trained_and_nprobe_applies() -> None:
    docs, vecs = _docs(n=400)
    store = OdqaFAISSDocumentStore(embedding_dim=16, index_string="IVF8,Flat", search_params={"nprobe": 8})
    store.write_documents(docs)
    assert store.index.is_trained and store.index.ntotal == 400
    assert store.search(vecs[11].tolist(), top_k=1)[0].id == "d11"  # nprobe = nlist: exact


def test_failed_save_keeps_previous_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs, _ = _docs()
    path = tmp_path / "faiss"
    store = OdqaFAISSDocumentStore(path=str(path), embedding_dim=16)
    store.write_documents(docs[:10])
    store.save()
    store.write_documents(docs[10:])

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("faiss.write_index", boom)
    with pytest.raises(OSError, match="disk full"):
        store.save()
    assert OdqaFAISSDocumentStore(path=str(path), embedding_dim=16).count_documents() == 10
    assert [p.name for p in tmp_path.iterdir()] == ["faiss"]  # no temp dir left behind


def test_bad_input_is_named() -> None:
    store = OdqaFAISSDocumentStore(embedding_dim=16)
    with pytest.raises(DocumentStoreError, match="no embedding"):
        store.write_documents([Document(id="x", content="no vector")])
    with pytest.raises(DocumentStoreError, match="dimension 8"):
        store.write_documents([Document(id="x", content="short", embedding=[0.1] * 8)])
    with pytest.raises(ValueError, match="metric"):
        OdqaFAISSDocumentStore(metric="manhattan")


def test_init_reads_nothing_and_warm_up_opens_the_files(tmp_path: Path) -> None:
    docs, _ = _docs(10)
    path = tmp_path / "faiss"
    store = OdqaFAISSDocumentStore(path=str(path), embedding_dim=16)
    store.write_documents(docs)
    store.save()
    (path / "index.faiss").write_bytes(b"not a faiss index")
    lazy = OdqaFAISSDocumentStore.from_dict(store.to_dict())  # no disk I/O while deserialising
    with pytest.raises(RuntimeError):
        lazy.warm_up()  # the damaged file is found when the store opens
    store.save()
    opened = OdqaFAISSDocumentStore(path=str(path), embedding_dim=16)
    opened.warm_up()
    assert opened.count_documents() == 10 and opened.search(docs[3].embedding or [], top_k=1)[0].id == "d3"


def test_delete_all_before_warm_up_does_not_bring_documents_back(tmp_path: Path) -> None:
    docs, _ = _docs(10)
    path = tmp_path / "faiss"
    store = OdqaFAISSDocumentStore(path=str(path), embedding_dim=16)
    store.write_documents(docs)
    store.save()
    fresh = OdqaFAISSDocumentStore(path=str(path), embedding_dim=16)
    fresh.delete_all_documents()
    fresh.write_documents(docs[:2])
    assert fresh.count_documents() == 2


def test_upstream_hooks_the_store_relies_on_are_still_there() -> None:
    """faiss-haystack private names odqa's store uses (see its module docstring); an upgrade that
    renames or drops one fails here, not at a user's query."""
    import faiss
    from haystack_integrations.document_stores.faiss import FAISSDocumentStore

    for name in ("_create_new_index", "_get_index_or_raise", "_matches_filters"):
        assert callable(getattr(FAISSDocumentStore, name, None)), name
    store = OdqaFAISSDocumentStore(embedding_dim=16)  # upstream __init__ calls our _create_new_index
    assert isinstance(store.index, faiss.IndexIDMap2)
    assert faiss.downcast_index(store.index.index).metric_type == faiss.METRIC_INNER_PRODUCT
    assert store.id_map == {} and store.inverse_id_map == {} and store._next_id == 0
