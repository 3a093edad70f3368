"""BM25 retrieval from the embedded (in-process) index."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.document_stores.types import FilterPolicy
from haystack.document_stores.types.filter_policy import apply_filter_policy

from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore


@component
class EmbeddedBM25Retriever:
    """Plain BM25 (Lucene arithmetic, no fuzziness) over an :class:`EmbeddedBM25DocumentStore`.

    :param document_store: The store holding documents and the BM25 index.
    :param top_k: Documents to return.
    :param filters: Haystack metadata filters applied before ranking (exact pre-filtering).
    :param filter_policy: How run-time filters combine with init-time ones (``replace``/``merge``).

    Usage::

        retriever = EmbeddedBM25Retriever(document_store=EmbeddedBM25DocumentStore(path="index/bm25"))
        retriever.run(query="Who founded Warsaw?")["documents"]
    """

    def __init__(
        self,
        *,
        document_store: EmbeddedBM25DocumentStore,
        top_k: int = 10,
        filters: dict[str, Any] | None = None,
        filter_policy: str | FilterPolicy = FilterPolicy.REPLACE,
    ) -> None:
        if not isinstance(document_store, EmbeddedBM25DocumentStore):
            raise ValueError("document_store must be an EmbeddedBM25DocumentStore")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.document_store = document_store
        self.top_k = top_k
        self.filters = filters or {}
        self.filter_policy = (
            FilterPolicy.from_str(filter_policy) if isinstance(filter_policy, str) else filter_policy
        )

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            document_store=self.document_store.to_dict(),
            top_k=self.top_k,
            filters=self.filters,
            filter_policy=self.filter_policy.value,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddedBM25Retriever:
        return default_from_dict(cls, data)  # Haystack builds the nested store (allow-listed modules)

    def warm_up(self) -> None:
        """Open the store's index files."""
        self.document_store.warm_up()

    @component.output_types(documents=list[Document])
    def run(
        self,
        query: str,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        boosts: dict[str, float] | None = None,
    ) -> dict[str, list[Document]]:
        """Retrieve documents for ``query``.

        :param boosts: Extra weight for terms of given phrases (e.g. entities from query analysis).
        :returns: ``documents``, best first, each with its BM25 ``score``.
        """
        k = self.top_k if top_k is None else top_k
        merged = apply_filter_policy(self.filter_policy, self.filters, filters) or None
        return {
            "documents": self.document_store.bm25_retrieval(query, top_k=k, filters=merged, boosts=boosts)
        }
