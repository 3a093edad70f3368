"""Dense retrieval from :class:`OdqaFAISSDocumentStore`, reusing faiss-haystack's retriever."""

from typing import Any

from haystack import component, default_from_dict
from haystack.dataclasses import Document
from haystack.document_stores.types.filter_policy import apply_filter_policy
from haystack_integrations.components.retrievers.faiss import FAISSEmbeddingRetriever


@component
class FaissRetriever(FAISSEmbeddingRetriever):
    """faiss-haystack's ``FAISSEmbeddingRetriever`` for odqa's FAISS store.

    Two changes from upstream: ``from_dict`` restores the store by its serialised type (upstream
    hard-codes its own store class), and a run-time ``top_k=0`` is honoured instead of falling back
    to the init value (upstream uses ``top_k or self.top_k``).

    Usage::

        store = OdqaFAISSDocumentStore(path="index/faiss")
        FaissRetriever(document_store=store, top_k=20).run(query_embedding=vector)["documents"]
    """

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FaissRetriever":
        return default_from_dict(cls, data)  # Haystack builds the nested store (allow-listed modules)

    def warm_up(self) -> None:
        """Open the store's index files (odqa's store opens them here; upstream's has no warm-up)."""
        warm_up = getattr(self.document_store, "warm_up", None)
        if callable(warm_up):
            warm_up()

    @component.output_types(documents=list[Document])
    def run(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        """Retrieve the ``top_k`` nearest documents; ``score`` is the cosine similarity."""
        merged = apply_filter_policy(self.filter_policy, self.filters, filters) or None
        k = self.top_k if top_k is None else top_k
        return {
            "documents": self.document_store.search(query_embedding=query_embedding, top_k=k, filters=merged)
        }

    @component.output_types(documents=list[Document])
    async def run_async(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        """Same as :meth:`run` (FAISS search is in-memory and CPU-bound)."""
        return self.run(query_embedding=query_embedding, filters=filters, top_k=top_k)
