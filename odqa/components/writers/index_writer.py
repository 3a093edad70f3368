"""Write documents into a persistent odqa store and save it atomically."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict, logging
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

logger = logging.getLogger(__name__)

PersistentStore = EmbeddedBM25DocumentStore | OdqaFAISSDocumentStore


@component
class IndexWriter:
    """Like Haystack's ``DocumentWriter``, but saves the store (temp dir + rename) after each run,
    so an interrupted indexing job never leaves a half-written index and what was saved stays.

    :param document_store: An odqa store with a ``path``.
    :param policy: Duplicate policy; ``overwrite`` makes re-indexing idempotent (stable ids).
    :param save: Save after writing (turn off to batch several runs, then call ``save()``).

    Usage::

        writer = IndexWriter(document_store=EmbeddedBM25DocumentStore(path="index/bm25"))
        writer.run(documents=passages)   # -> {"documents_written": N}
    """

    def __init__(
        self, *, document_store: PersistentStore, policy: str = "overwrite", save: bool = True
    ) -> None:
        self.document_store = document_store
        self.policy = DuplicatePolicy[policy.upper()]
        self.save = save

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, document_store=self.document_store.to_dict(), policy=self.policy.value, save=self.save
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexWriter:
        return default_from_dict(cls, data)  # Haystack builds the nested store (allow-listed modules)

    def warm_up(self) -> None:
        """Open the store's files (an Elasticsearch store has none: it connects on first use)."""
        warm_up = getattr(self.document_store, "warm_up", None)
        if callable(warm_up):
            warm_up()

    @component.output_types(documents_written=int)
    def run(self, documents: list[Any]) -> dict[str, int]:
        written = self.document_store.write_documents(documents, policy=self.policy)
        if self.save:
            self.document_store.save()
        return {"documents_written": written}
