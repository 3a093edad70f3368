"""Optional dense backend: Elasticsearch kNN against FAISS (exact, cosine) on the same vectors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from es_support import needs_server
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.retrievers.es_embedding_retriever import ElasticsearchEmbeddingRetriever
from odqa.components.retrievers.faiss_retriever import FaissRetriever
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore
from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

pytestmark = [pytest.mark.integration, needs_server]

DIM = 8


def vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def test_knn_ranks_and_scores_like_faiss_cosine(
    make_store: Callable[..., OdqaElasticsearchDocumentStore],
) -> None:
    vecs = vectors(40)
    docs = [
        Document(id=f"v{i:02d}", content=f"doc {i}", embedding=v.tolist(), meta={"half": i % 2})
        for i, v in enumerate(vecs)
    ]
    es = make_store(embedding_dim=DIM)
    es.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
    faiss = OdqaFAISSDocumentStore(embedding_dim=DIM, metric="cosine")
    faiss.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
    es_r = ElasticsearchEmbeddingRetriever(document_store=es, top_k=5, num_candidates=100)
    faiss_r = FaissRetriever(document_store=faiss, top_k=5)
    for q in vectors(5, seed=1):
        got = es_r.run(query_embedding=q.tolist())["documents"]
        want = faiss_r.run(query_embedding=q.tolist())["documents"]
        assert [d.id for d in got] == [d.id for d in want]
        assert [d.score for d in got] == pytest.approx([d.score for d in want], abs=1e-4)
        assert got[0].embedding is None  # vectors are not shipped back
    only_odd = es_r.run(
        query_embedding=vecs[0].tolist(), filters={"field": "meta.half", "operator": "==", "value": 1}
    )
    assert only_odd["documents"] and all(d.meta["half"] == 1 for d in only_odd["documents"])


def test_bm25_store_without_embedding_dim_drops_vectors(
    make_store: Callable[..., OdqaElasticsearchDocumentStore],
) -> None:
    store = make_store()
    store.write_documents(
        [Document(id="a", content="x", embedding=[0.1] * DIM)], policy=DuplicatePolicy.OVERWRITE
    )
    assert store.filter_documents()[0].embedding is None
    with pytest.raises(ValueError, match="embedding_dim"):
        store.knn_search([0.1] * DIM)
