"""FAISS document store: deepset's ``faiss-haystack`` store, extended where odqa needs more.

What the upstream ``FAISSDocumentStore`` gives us and we keep: the document/ID bookkeeping,
Haystack filter evaluation (post-filtering), duplicate policies, deletes, metadata queries.

What it lacks, and this subclass adds (each a small override):

* **Cosine / inner-product scores.** Upstream builds every index with FAISS' default L2 metric and
  reports ``1 / (1 + distance)``; we build with ``METRIC_INNER_PRODUCT`` and L2-normalise vectors
  (``metric="cosine"``), so the score is the cosine similarity sentence-transformers models are
  trained for.
* **Query-time index parameters** (``efSearch`` for HNSW, ``nprobe`` for IVF) via ``search_params``.
* **Trainable indexes** (IVF, PQ): trained on the first batch written when untrained.
* **GPU search** with ``faiss-gpu`` (``device="cuda"``), CPU index kept for saving.
* **A directory format with atomic saves** (temp dir + rename) and a manifest; documents are saved
  without their embeddings (the vectors live once, in ``index.faiss``), which keeps the JSON small.
* **Batched search** for evaluation (``search_batch``).
* **Haystack's lifecycle**: ``__init__`` only stores settings; :meth:`warm_up` opens the files (the
  data methods call it on first use).

Upstream hooks it relies on, beyond the public store API: ``_create_new_index`` (overridden: the
metric), ``_get_index_or_raise``, ``_matches_filters`` (post-filtering), and its bookkeeping
``id_map``/``inverse_id_map``/``_next_id`` (read and restored by ``save``/``load``).
``tests/components/stores/test_faiss_document_store.py`` pins them, so an upgrade that changes
them fails loudly.

Usage::

    store = OdqaFAISSDocumentStore(path="index/faiss", embedding_dim=384, index_string="HNSW32",
                                   search_params={"efSearch": 128})
    store.warm_up()  # reads index/faiss when it holds an index (nothing is read in __init__)
    store.write_documents(docs_with_embeddings)
    store.save()
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from haystack import default_from_dict, default_to_dict, logging
from haystack.dataclasses import Document
from haystack.document_stores.errors import DocumentStoreError
from haystack.document_stores.types import DuplicatePolicy
from haystack_integrations.document_stores.faiss import FAISSDocumentStore

from odqa.utils.fs import atomic_dir
from odqa.utils.manifest import make_manifest

logger = logging.getLogger(__name__)

METRICS = {"cosine": faiss.METRIC_INNER_PRODUCT, "ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2}


class OdqaFAISSDocumentStore(FAISSDocumentStore):
    """FAISS store with cosine scores, search parameters, GPU search and atomic directory saves.

    :param path: Index directory (loaded when it holds an index, written by :meth:`save`).
    :param index_string: FAISS index factory string, e.g. ``Flat``, ``HNSW32``, ``IVF256,Flat``.
    :param embedding_dim: Vector size (384 for MiniLM-L6).
    :param metric: ``cosine`` (normalised inner product), ``ip`` or ``l2`` (score = -distance).
    :param search_params: FAISS parameters applied at query time, e.g. ``{"efSearch": 128}``.
    :param device: ``cpu`` or ``cuda``; with ``cuda`` searches run on a GPU copy (needs faiss-gpu).
    """

    def __init__(
        self,
        *,
        path: str | None = None,
        index_string: str = "Flat",
        embedding_dim: int = 384,
        metric: str = "cosine",
        search_params: dict[str, float] | None = None,
        device: str = "cpu",
    ) -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        self.path = path
        self.metric = metric
        self.search_params = dict(search_params or {})
        self.device = device
        self._gpu_index: Any = None
        self._opened = False
        self._open_lock = threading.Lock()
        # upstream keeps its bookkeeping and builds an empty index through our _create_new_index
        # (index_path=None: it reads nothing; our files are opened by warm_up, in our directory format)
        super().__init__(index_path=None, index_string=index_string, embedding_dim=embedding_dim)

    def warm_up(self) -> None:
        """Open the index saved under ``path`` (once; a directory without one starts empty). A
        failed load leaves the store closed (the next call tries again), never half-replaced."""
        if self._opened:
            return
        with self._open_lock:
            if not self._opened:
                if self.path and (Path(self.path) / "index.faiss").exists():
                    self.load(self.path)
                self._opened = True

    def passage_ids_of(self, doc_ids: set[str]) -> list[str]:
        """Ids of the stored passages whose ``meta.doc_id`` is in ``doc_ids``."""
        self.warm_up()
        return [i for i, d in self.documents.items() if str(d.meta.get("doc_id", i)) in doc_ids]

    def delete_all_documents(self) -> None:
        self.warm_up()  # else a later warm-up would bring the deleted documents back from disk
        super().delete_all_documents()

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        self.warm_up()
        return super().delete_by_filter(filters)

    def count_documents(self) -> int:
        self.warm_up()
        return super().count_documents()

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        self.warm_up()
        return super().filter_documents(filters)

    def delete_documents(self, document_ids: list[str]) -> None:
        self.warm_up()
        super().delete_documents(document_ids)

    def _create_new_index(self) -> None:
        try:
            base = faiss.index_factory(self.embedding_dim, self.index_string, METRICS[self.metric])
        except RuntimeError as e:
            raise DocumentStoreError(
                f"cannot build FAISS index from factory string {self.index_string!r}: {e}"
            ) from e
        self.index = faiss.IndexIDMap2(base)
        self._gpu_index = None

    # -------------------------------------------------------------- writing
    def _prepare(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.embedding_dim:
            raise DocumentStoreError(
                f"embedding dimension {vectors.shape[-1]} does not match the index ({self.embedding_dim})"
            )
        if self.metric == "cosine":
            faiss.normalize_L2(vectors)
        return vectors

    def write_documents(
        self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.FAIL
    ) -> int:
        """Write documents with embeddings; vectors are normalised for ``cosine``; an untrained
        index (IVF/PQ) is trained on this batch first."""
        self.warm_up()
        missing = [d.id for d in documents if d.embedding is None]
        if missing:
            raise DocumentStoreError(f"{len(missing)} documents have no embedding (first: {missing[0]!r})")
        prepared = []
        if documents:
            vecs = self._prepare(np.array([d.embedding for d in documents], dtype=np.float32))
            prepared = [replace(d, embedding=v.tolist()) for d, v in zip(documents, vecs, strict=True)]
            index = self._get_index_or_raise()
            if not index.is_trained:
                logger.info("Training FAISS index {s} on {n} vectors", s=self.index_string, n=len(vecs))
                index.train(vecs)
        written = super().write_documents(prepared, policy=policy)
        for d in prepared:  # vectors live in the index; keep documents light
            if d.id in self.documents:
                self.documents[d.id] = replace(self.documents[d.id], embedding=None)
        self._gpu_index = None
        return written

    # -------------------------------------------------------------- searching
    def _searchable(self) -> Any:
        index = self._get_index_or_raise()
        if self.device.startswith("cuda"):
            if self._gpu_index is None:
                if not hasattr(faiss, "StandardGpuResources"):
                    raise DocumentStoreError("device='cuda' needs faiss-gpu (pip install 'odqa[gpu]')")
                self._gpu_res = faiss.StandardGpuResources()
                self._gpu_index = faiss.index_cpu_to_gpu(self._gpu_res, 0, index)
            index = self._gpu_index
        if self.search_params:
            ps = faiss.GpuParameterSpace() if self.device.startswith("cuda") else faiss.ParameterSpace()
            inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
            for name, value in self.search_params.items():
                ps.set_index_parameter(inner, name, value)
        return index

    def search_batch(
        self, query_embeddings: npt.ArrayLike, top_k: int = 10, filters: dict[str, Any] | None = None
    ) -> list[list[Document]]:
        """Search many queries at once; post-filters like upstream (fetching 10x when filtering)."""
        self.warm_up()
        if self.index is None or self.index.ntotal == 0:
            return [[] for _ in np.atleast_2d(np.asarray(query_embeddings))]
        q = self._prepare(np.atleast_2d(np.asarray(query_embeddings, dtype=np.float32)).copy())
        fetch_k = min(self.index.ntotal, top_k * 10 if filters else top_k)
        dist, ids = self._searchable().search(q, fetch_k)
        results: list[list[Document]] = []
        for row_d, row_i in zip(dist, ids, strict=True):
            docs: list[Document] = []
            for d, i in zip(row_d, row_i, strict=True):
                doc_id = self.id_map.get(int(i)) if i != -1 else None
                if doc_id is None or doc_id not in self.documents:
                    continue
                doc = self.documents[doc_id]
                if filters and not self._matches_filters(doc, filters):
                    continue
                score = float(-d) if self.metric == "l2" else float(d)
                docs.append(replace(doc, score=score))
                if len(docs) >= top_k:
                    break
            results.append(docs)
        return results

    def search(
        self, query_embedding: list[float], top_k: int = 10, filters: dict[str, Any] | None = None
    ) -> list[Document]:
        return self.search_batch([query_embedding], top_k=top_k, filters=filters)[0]

    # -------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            path=self.path,
            index_string=self.index_string,
            embedding_dim=self.embedding_dim,
            metric=self.metric,
            search_params=self.search_params,
            device=self.device,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OdqaFAISSDocumentStore:
        return default_from_dict(cls, data)

    def save(self, index_path: str | Path | None = None) -> None:
        """Save atomically into a directory: ``index.faiss``, ``documents.jsonl``, ``ids.json``,
        ``manifest.json``."""
        target = index_path or self.path
        if not target:
            raise ValueError("OdqaFAISSDocumentStore.save() needs a path")
        self.warm_up()
        with atomic_dir(target) as tmp:
            # serialise in memory and write from Python: faiss.write_index reports a short write
            # (a full disk) as a RuntimeError without errno; Python's write raises OSError(ENOSPC)
            (tmp / "index.faiss").write_bytes(faiss.serialize_index(self._get_index_or_raise()).tobytes())
            with open(tmp / "documents.jsonl", "w", encoding="utf-8") as fh:
                for doc in self.documents.values():
                    fh.write(json.dumps(doc.to_dict(flatten=False)) + "\n")
            ids = {"id_map": {str(k): v for k, v in self.id_map.items()}, "next_id": self._next_id}
            (tmp / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
            manifest = make_manifest(
                "faiss-index",
                documents=len(self.documents),
                vectors=int(self._get_index_or_raise().ntotal),
                index_string=self.index_string,
                embedding_dim=self.embedding_dim,
                metric=self.metric,
            )
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    def load(self, index_path: str | Path) -> None:
        """Replace the contents with the index saved in ``index_path`` (our directory format; all
        or nothing)."""
        d = Path(index_path)
        if not (d / "index.faiss").exists():
            raise ValueError(f"no FAISS index in {d} (expected {d / 'index.faiss'})")
        index = faiss.read_index(str(d / "index.faiss"))
        documents: dict[str, Document] = {}
        with open(d / "documents.jsonl", encoding="utf-8") as fh:
            for line in fh:
                doc = Document.from_dict(json.loads(line))
                documents[doc.id] = doc
        ids = json.loads((d / "ids.json").read_text(encoding="utf-8"))
        id_map = {int(k): v for k, v in ids["id_map"].items()}
        if index.d != self.embedding_dim:
            logger.info("FAISS index at {d} has dimension {n}", d=d, n=index.d)
            self.embedding_dim = index.d
        self.index, self.documents, self.id_map = index, documents, id_map
        self.inverse_id_map = {v: k for k, v in id_map.items()}
        self._next_id = int(ids["next_id"])
        self._gpu_index = None
        self._opened = True
