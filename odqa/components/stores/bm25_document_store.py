"""A Haystack document store backed by :class:`BM25Index`, persisted to a directory."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
from haystack import default_from_dict, default_to_dict, logging
from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils.filters import document_matches_filter

from odqa.components.stores.bm25_index import BM25Index
from odqa.utils.fs import atomic_dir
from odqa.utils.manifest import make_manifest

logger = logging.getLogger(__name__)


class EmbeddedBM25DocumentStore:
    """Documents plus a Lucene-exact BM25 index, kept in memory and saved atomically to ``path``.

    :param path: Directory to load from (when it exists) and to save to. ``None`` = memory only.
        Nothing is read in ``__init__``: :meth:`warm_up` opens the index (the retriever's and
        writer's ``warm_up`` call it; the data methods call it on first use).
    :param k1: BM25 term-frequency saturation (Lucene/Elasticsearch default 1.2; Pyserini uses 0.9).
    :param b: BM25 length normalisation.
    :param analyzer: ``standard`` or ``english`` (see :mod:`odqa.components.stores.analysis`).
    :param index_title: Also index ``meta["title"]`` (prepended to the content).

    Usage::

        store = EmbeddedBM25DocumentStore(path="index/bm25")
        store.warm_up()  # reads index/bm25 when it holds an index
        store.write_documents([Document(id="a#0", content="Sweet love", meta={"doc_id": "a"})])
        store.bm25_retrieval("love", top_k=5)
        store.save()
    """

    def __init__(
        self,
        *,
        path: str | None = None,
        k1: float = 0.9,
        b: float = 0.4,
        analyzer: str = "standard",
        index_title: bool = True,
    ) -> None:
        self.path = path
        self.k1 = k1
        self.b = b
        self.analyzer = analyzer
        self.index_title = index_title
        self._docs: dict[str, Document] = {}
        self._index = BM25Index(k1=k1, b=b, analyzer=analyzer)
        self._opened = False
        self._open_lock = threading.Lock()

    def warm_up(self) -> None:
        """Open the index saved under ``path`` (once; a directory without one starts empty). A
        failed load leaves the store closed (the next call tries again), never half-replaced."""
        if self._opened:
            return
        with self._open_lock:
            if not self._opened:
                if self.path and (Path(self.path) / "bm25.json").exists():
                    self.load(self.path)
                self._opened = True

    # -------------------------------------------------------------- DocumentStore protocol
    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, path=self.path, k1=self.k1, b=self.b, analyzer=self.analyzer, index_title=self.index_title
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddedBM25DocumentStore:
        return default_from_dict(cls, data)

    def count_documents(self) -> int:
        self.warm_up()
        return len(self._docs)

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        self.warm_up()
        if not filters:
            return list(self._docs.values())
        return [d for d in self._docs.values() if document_matches_filter(filters, d)]

    def write_documents(
        self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE
    ) -> int:
        """Write documents; ``NONE``/``OVERWRITE`` replace same-id documents (idempotent re-indexing)."""
        self.warm_up()
        if policy == DuplicatePolicy.FAIL:
            dup = [d.id for d in documents if d.id in self._docs]
            if dup:
                raise DuplicateDocumentError(f"ID '{dup[0]}' already exists in the BM25 store")
        new = [d for d in documents if not (policy == DuplicatePolicy.SKIP and d.id in self._docs)]
        unique: dict[str, Document] = {}
        for d in new:
            unique[d.id] = Document(id=d.id, content=d.content, meta=d.meta)  # no embeddings here
        if unique:
            self._index.add(list(unique), [self._text(d) for d in unique.values()])
            self._docs.update(unique)
        return len(unique)

    def passage_ids_of(self, doc_ids: set[str]) -> list[str]:
        """Ids of the stored passages whose ``meta.doc_id`` is in ``doc_ids``."""
        self.warm_up()
        return [i for i, d in self._docs.items() if str(d.meta.get("doc_id", i)) in doc_ids]

    def delete_documents(self, document_ids: list[str]) -> None:
        self.warm_up()
        self._index.delete(document_ids)
        for i in document_ids:
            self._docs.pop(i, None)

    # -------------------------------------------------------------- retrieval
    def _text(self, doc: Document) -> str:
        title = doc.meta.get("title") if self.index_title else None
        return f"{title}\n{doc.content or ''}" if title else (doc.content or "")

    def _mask(self, filters: dict[str, Any] | None) -> np.ndarray | None:
        if not filters:
            return None
        mask = np.zeros(self._index.n_rows, dtype=bool)
        for doc in self.filter_documents(filters):
            row = self._index.row_of(doc.id)
            if row is not None:
                mask[row] = True
        return mask

    def bm25_retrieval(
        self,
        query: str,
        *,
        top_k: int = 10,
        filters: dict[str, Any] | None = None,
        boosts: dict[str, float] | None = None,
    ) -> list[Document]:
        """The ``top_k`` documents by BM25 score (only documents that share a term with the query)."""
        self.warm_up()
        hits = self._index.search(query, top_k, mask=self._mask(filters), boosts=boosts)
        return [
            Document(id=i, content=self._docs[i].content, meta=self._docs[i].meta, score=s) for i, s in hits
        ]

    # -------------------------------------------------------------- persistence
    def save(self, path: str | None = None) -> None:
        """Save atomically (temp dir + rename) to ``path`` or the store's own path."""
        target = path or self.path
        if not target:
            raise ValueError("EmbeddedBM25DocumentStore.save() needs a path")
        self.warm_up()
        with atomic_dir(target) as tmp:
            self._index.save(tmp)
            with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
                for doc_id in self._index.ids:
                    fh.write(json.dumps(self._docs[doc_id].to_dict(flatten=False)) + "\n")
            manifest = make_manifest("bm25-index", documents=len(self._docs), **self._index.config())
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    def load(self, path: str) -> None:
        """Replace the contents with the index saved in ``path`` (all or nothing)."""
        d = Path(path)
        index = BM25Index.load(d)
        docs: dict[str, Document] = {}
        with open(d / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                doc = Document.from_dict(json.loads(line))
                docs[doc.id] = doc
        self._index, self._docs = index, docs
        self.k1, self.b, self.analyzer = index.k1, index.b, index.analyzer
        self._opened = True
        logger.info("Loaded BM25 index from {path}: {n} documents", path=path, n=len(self._docs))
