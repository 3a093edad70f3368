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
    :param replace_documents: A document written again replaces all of its old passages: passages of
        the same ``meta.doc_id`` that the new version does not have are deleted (a shorter new
        version leaves no stale passage behind).

    Usage::

        writer = IndexWriter(document_store=EmbeddedBM25DocumentStore(path="index/bm25"))
        writer.run(documents=passages)   # -> {"documents_written": N}
    """

    def __init__(
        self,
        *,
        document_store: PersistentStore,
        policy: str = "overwrite",
        save: bool = True,
        replace_documents: bool = True,
    ) -> None:
        self.document_store = document_store
        self.policy = DuplicatePolicy[policy.upper()]
        self.save = save
        self.replace_documents = replace_documents

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            document_store=self.document_store.to_dict(),
            policy=self.policy.value,
            save=self.save,
            replace_documents=self.replace_documents,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexWriter:
        return default_from_dict(cls, data)  # Haystack builds the nested store (allow-listed modules)

    def warm_up(self) -> None:
        """Open the store's files (an Elasticsearch store has none: it connects on first use)."""
        warm_up = getattr(self.document_store, "warm_up", None)
        if callable(warm_up):
            warm_up()

    @component.output_types(documents_written=int, passages_replaced=int)
    def run(self, documents: list[Any]) -> dict[str, int]:
        stale = self._stale(documents) if self.replace_documents else []
        if stale:
            self.document_store.delete_documents(stale)
        written = self.document_store.write_documents(documents, policy=self.policy)
        if self.save:
            self.document_store.save()
        return {"documents_written": written, "passages_replaced": len(stale)}

    def _stale(self, documents: list[Any]) -> list[str]:
        """Passages of the documents being written that their new versions no longer have."""
        doc_ids = {str(d.meta["doc_id"]) for d in documents if d.meta.get("doc_id") is not None}
        if not doc_ids:
            return []
        new = {d.id for d in documents}
        return [i for i in passage_ids_of(self.document_store, doc_ids) if i not in new]


def passage_ids_of(store: Any, doc_ids: set[str]) -> list[str]:
    """Ids of the passages of ``doc_ids`` in ``store`` (odqa's stores answer from memory; others
    through a ``meta.doc_id in [...]`` filter)."""
    own = getattr(store, "passage_ids_of", None)
    if callable(own):
        return list(own(doc_ids))
    found = store.filter_documents({"field": "meta.doc_id", "operator": "in", "value": sorted(doc_ids)})
    return [d.id for d in found]
