"""Dense retrieval by Elasticsearch kNN (``dense_vector``): an alternative to FAISS, with the same
interface as :class:`~odqa.components.retrievers.faiss_retriever.FaissRetriever`."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.document_stores.types import FilterPolicy
from haystack.document_stores.types.filter_policy import apply_filter_policy

from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore


@component
class ElasticsearchEmbeddingRetriever:
    """Approximate nearest neighbours (HNSW) from an :class:`OdqaElasticsearchDocumentStore` made
    with ``embedding_dim``; ``score`` is the cosine similarity, as FAISS reports it.

    :param document_store: The store (its index holds the vectors).
    :param top_k: Documents to return.
    :param num_candidates: HNSW candidates per shard (default ``max(100, 10 * top_k)``); more is
        slower and closer to exact search.
    :param filters: Haystack metadata filters, applied inside the kNN search (pre-filtering).
    :param filter_policy: How run-time filters combine with init-time ones.

    Usage::

        store = OdqaElasticsearchDocumentStore(index="odqa-dense", embedding_dim=384)
        ElasticsearchEmbeddingRetriever(document_store=store, top_k=20).run(query_embedding=vector)
    """

    def __init__(
        self,
        *,
        document_store: OdqaElasticsearchDocumentStore,
        top_k: int = 10,
        num_candidates: int | None = None,
        filters: dict[str, Any] | None = None,
        filter_policy: str | FilterPolicy = FilterPolicy.REPLACE,
    ) -> None:
        if not isinstance(document_store, OdqaElasticsearchDocumentStore):
            raise ValueError("document_store must be an OdqaElasticsearchDocumentStore")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.document_store = document_store
        self.top_k = top_k
        self.num_candidates = num_candidates
        self.filters = filters or {}
        self.filter_policy = (
            FilterPolicy.from_str(filter_policy) if isinstance(filter_policy, str) else filter_policy
        )

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            document_store=self.document_store.to_dict(),
            top_k=self.top_k,
            num_candidates=self.num_candidates,
            filters=self.filters,
            filter_policy=self.filter_policy.value,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ElasticsearchEmbeddingRetriever:
        return default_from_dict(cls, data)  # Haystack builds the nested store (allow-listed modules)

    def warm_up(self) -> None:
        """Connect now: an unreachable server or a missing index fails here, within seconds."""
        self.document_store.check()

    @component.output_types(documents=list[Document])
    def run(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        """The ``top_k`` nearest documents, best first."""
        merged = apply_filter_policy(self.filter_policy, self.filters, filters) or None
        k = self.top_k if top_k is None else top_k
        docs = self.document_store.knn_search(
            query_embedding, top_k=k, filters=merged, num_candidates=self.num_candidates
        )
        return {"documents": docs}
