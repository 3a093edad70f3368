"""odqa's Elasticsearch document store: elasticsearch-haystack's ``ElasticsearchDocumentStore``
with odqa's index layout, connection handling and bulk writing.

Kept from upstream: reading (``filter_documents``, ``count_documents``, deserialisation of hits),
deletes, Haystack filters -> query DSL, kNN (``_embedding_retrieval``).

Changed or added here:

* **Index layout** (:mod:`~odqa.components.stores.es_index`): the analyzer and BM25 ``k1``/``b``
  in the index settings, one shard, a combined title+content field for embedded-index parity.
* **An alias over versioned indexes.** ``index`` names an alias; the data lives in
  ``<index>--<timestamp>``. A fresh build (:meth:`begin_build` / :meth:`commit_build`) writes a new
  physical index and swaps the alias atomically at the end, so searches see the old index until
  the new one is complete -- as the embedded index is swapped into place by a directory rename.
* **Connection errors within seconds**, naming the URL (:class:`EsUnavailableError`); API key or
  basic auth and TLS options from :class:`~odqa.components.stores.es_config.EsConfig`.
* **Bulk writes** in chunks with retries and backoff, a progress bar and a list of the documents
  that failed (:mod:`~odqa.components.stores.es_bulk`); the passage id is the Elasticsearch
  ``_id``, so writing again never duplicates. Upstream's bulk error handling also assumes
  ``create`` actions only, and fails on errors of ``index`` (overwrite) actions.
* ``save()`` (called by :class:`~odqa.components.writers.index_writer.IndexWriter`) refreshes.

Usage::

    store = OdqaElasticsearchDocumentStore(url="http://127.0.0.1:9200", index="odqa", analyzer="english")
    store.write_documents(passages, policy=DuplicatePolicy.OVERWRITE)
    store.search_documents({"match": {"content": "love"}}, top_k=10)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from elasticsearch import AsyncElasticsearch, Elasticsearch, NotFoundError
from haystack import default_from_dict, default_to_dict, logging
from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack_integrations.document_stores.elasticsearch import ElasticsearchDocumentStore
from haystack_integrations.document_stores.elasticsearch.filters import _normalize_filters

from odqa.components.stores.es_bulk import BulkAction, RetryPolicy, bulk_write
from odqa.components.stores.es_config import API_KEY_ENV, PASSWORD_ENV, EsConfig, EsError, is_standin
from odqa.components.stores.es_index import (
    COMBINED_FIELD,
    index_mappings,
    index_settings,
    settings_summary,
)

logger = logging.getLogger(__name__)

_DROP = ("score", "blob", "sparse_embedding")


class EsIndexMissingError(EsError):
    """A search was asked of an index that does not exist (nothing indexed yet)."""


class OdqaElasticsearchDocumentStore(ElasticsearchDocumentStore):
    """Passages in Elasticsearch, laid out for plain BM25 with the embedded index's analysis.

    Connection (``None`` = the ``ELASTICSEARCH_*`` environment variable, read when the store is
    built, so serialised pipelines carry no environment-specific values or secrets):

    :param url: Server URL (``ELASTICSEARCH_URL``, default ``http://127.0.0.1:9200``).
    :param index: Alias name (``ELASTICSEARCH_INDEX``, default ``odqa``).
    :param username: Basic-auth user (``ELASTICSEARCH_USERNAME``); the password is read from the
        variable named by ``password_env``.
    :param api_key_env: Variable holding an API key (preferred over basic auth when set).
    :param password_env: Variable holding the basic-auth password.
    :param ca_certs: CA bundle for TLS (``ELASTICSEARCH_CA_CERTS``).
    :param verify_certs: Verify the server certificate (``ELASTICSEARCH_VERIFY_CERTS``, default true).
    :param request_timeout: Seconds per request.
    :param connect_timeout: An unreachable server is reported after at most this many seconds.

    Index (used when the store creates an index; an existing index keeps its own settings):

    :param analyzer: ``standard`` or ``english`` (Elasticsearch built-ins).
    :param k1: BM25 term-frequency saturation.
    :param b: BM25 length normalisation.
    :param index_title: Also index ``meta["title"]`` in the combined field (as the embedded index).
    :param shards: Primary shards (1 keeps BM25 statistics global).
    :param replicas: Replicas (``None``: the cluster default).
    :param embedding_dim: Add a ``dense_vector`` field for kNN search; ``None`` drops embeddings.
    :param embedding_similarity_function: kNN similarity (``cosine``, ``dot_product``, ...).
    :param create_index: Create a missing index; ``False`` (query graphs) raises
        :class:`EsIndexMissingError` instead.

    Writing:

    :param chunk_size: Documents per bulk request.
    :param max_retries: Retries per chunk for transient failures; backoff ``initial_backoff * 2**n``
        seconds, at most ``max_backoff``.
    :param refresh: Refresh after each ``write_documents`` so writes are searchable at once;
        ``False`` leaves it to ``save()`` or the index's refresh interval.
    :param progress_bar: Show a progress bar while writing.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        index: str | None = None,
        username: str | None = None,
        api_key_env: str = API_KEY_ENV,
        password_env: str = PASSWORD_ENV,
        ca_certs: str | None = None,
        verify_certs: bool | None = None,
        request_timeout: float = 60.0,
        connect_timeout: float = 4.0,
        analyzer: str = "standard",
        k1: float = 0.9,
        b: float = 0.4,
        index_title: bool = True,
        shards: int = 1,
        replicas: int | None = None,
        embedding_dim: int | None = None,
        embedding_similarity_function: Literal[
            "cosine", "dot_product", "l2_norm", "max_inner_product"
        ] = "cosine",
        create_index: bool = True,
        chunk_size: int = 500,
        max_retries: int = 5,
        initial_backoff: float = 1.0,
        max_backoff: float = 30.0,
        refresh: bool = True,
        progress_bar: bool = False,
    ) -> None:
        self._init = {
            "url": url,
            "index": index,
            "username": username,
            "api_key_env": api_key_env,
            "password_env": password_env,
            "ca_certs": ca_certs,
            "verify_certs": verify_certs,
            "request_timeout": request_timeout,
            "connect_timeout": connect_timeout,
            "analyzer": analyzer,
            "k1": k1,
            "b": b,
            "index_title": index_title,
            "shards": shards,
            "replicas": replicas,
            "embedding_dim": embedding_dim,
            "embedding_similarity_function": embedding_similarity_function,
            "create_index": create_index,
            "chunk_size": chunk_size,
            "max_retries": max_retries,
            "initial_backoff": initial_backoff,
            "max_backoff": max_backoff,
            "refresh": refresh,
            "progress_bar": progress_bar,
        }
        self.config = EsConfig.from_env(
            url=url,
            index=index,
            username=username,
            api_key_env=api_key_env,
            password_env=password_env,
            ca_certs=ca_certs,
            verify_certs=verify_certs,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
        )
        self.settings = index_settings(analyzer=analyzer, k1=k1, b=b, shards=shards, replicas=replicas)
        self.mappings = index_mappings(
            analyzer=analyzer, embedding_dim=embedding_dim, similarity=embedding_similarity_function
        )
        super().__init__(
            hosts=[self.config.url],
            custom_mapping=self.mappings,
            index=self.config.index,
            api_key=None,
            api_key_id=None,
            embedding_similarity_function=embedding_similarity_function,
        )
        self.index_title = index_title
        self.embedding_dim = embedding_dim
        self.create_index = create_index
        self.chunk_size = chunk_size
        self.retry = RetryPolicy(max_retries, initial_backoff, max_backoff)
        self.refresh = refresh
        self.progress_bar = progress_bar
        self.server_info: dict[str, Any] = {}
        self._write_index: str | None = None  # a staging index during a fresh build

    # -------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, **self._init)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OdqaElasticsearchDocumentStore:
        return default_from_dict(cls, data)

    # -------------------------------------------------------------- connection and index
    @property
    def index_name(self) -> str:
        """The alias searches go to."""
        return self._index

    @property
    def write_index(self) -> str:
        """Where writes go: the staging index during a fresh build, else the alias."""
        return self._write_index or self._index

    @property
    def is_standin(self) -> bool:
        self._ensure_initialized()
        return is_standin(self.server_info)

    def _ensure_initialized(self) -> None:
        if self._client is not None:
            return
        client = self.config.client()
        self.server_info = self.config.check(client)
        self._prepare_index(client)
        self._client = client

    def _create_async_client(self) -> AsyncElasticsearch:
        return AsyncElasticsearch(**self.config.client_kwargs())

    async def _ensure_initialized_async(self) -> None:
        self._ensure_initialized()
        if self._async_client is None:
            self._async_client = self._create_async_client()

    def check(self) -> dict[str, Any]:
        """Connect (within ``connect_timeout``) and make sure the index exists; the server's info."""
        self._ensure_initialized()
        return self.server_info

    def _physical_name(self) -> str:
        return f"{self._index}--{datetime.now(UTC):%Y%m%d-%H%M%S-%f}"

    def _prepare_index(self, client: Elasticsearch) -> None:
        if client.indices.exists_alias(name=self._index) or client.indices.exists(index=self._index):
            return
        if not self.create_index:
            raise EsIndexMissingError(
                f"Elasticsearch at {self.config.safe_url} has no index {self._index!r}: build it first "
                "(odqa index ... with backend elasticsearch), or check ELASTICSEARCH_INDEX."
            )
        client.indices.create(
            index=self._physical_name(),
            settings=self.settings,
            mappings=self.mappings,
            aliases={self._index: {"is_write_index": True}},
        )

    def _alias_targets(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self._index).body)
        except NotFoundError:
            return []

    def index_info(self) -> dict[str, Any]:
        """Settings of the live index as the server reports them: analyzer, k1, b, shards, documents."""
        body = self.client.indices.get(index=self._index).body
        name, data = next(iter(sorted(body.items())))
        info = settings_summary(data.get("settings", {}), data.get("mappings", {}))
        info.update(physical_index=name, documents=self.count_documents(), standin=self.is_standin)
        return info

    # -------------------------------------------------------------- fresh builds
    def begin_build(self) -> str:
        """Start a fresh build: later writes go to a new physical index, invisible to searches
        until :meth:`commit_build`. Staging indexes left by interrupted builds are deleted."""
        client = self.client
        for name in self._leftover_staging():
            logger.info("Deleting staging index {index} left by an unfinished build", index=name)
            client.indices.delete(index=name, ignore_unavailable=True)
        name = self._physical_name()
        client.indices.create(
            index=name, settings={**self.settings, "refresh_interval": "-1"}, mappings=self.mappings
        )
        self._write_index = name
        return name

    def _leftover_staging(self) -> list[str]:
        body = self.client.indices.get_alias(index=f"{self._index}--*", allow_no_indices=True).body
        return sorted(n for n, d in body.items() if self._index not in (d.get("aliases") or {}))

    def commit_build(self) -> None:
        """Make the staging index live: one atomic alias swap, then delete the old index."""
        staging = self._write_index
        if staging is None:
            return
        client = self.client
        client.indices.put_settings(index=staging, settings={"index": {"refresh_interval": None}})
        client.indices.refresh(index=staging)
        old = self._alias_targets()
        actions: list[dict[str, Any]] = [{"remove": {"index": o, "alias": self._index}} for o in old]
        if not old and client.indices.exists(index=self._index):
            actions.append({"remove_index": {"index": self._index}})  # a plain index of that name
        actions.append({"add": {"index": staging, "alias": self._index, "is_write_index": True}})
        client.indices.update_aliases(actions=actions)
        for o in old:
            client.indices.delete(index=o, ignore_unavailable=True)
        self._write_index = None
        logger.info("Index {alias} now serves {index}", alias=self._index, index=staging)

    def abort_build(self) -> None:
        """Give up a fresh build: the live index is untouched; the staging index is deleted
        (or, if the server is gone, by the next :meth:`begin_build`)."""
        staging, self._write_index = self._write_index, None
        if staging is None:
            return
        try:
            self.client.indices.delete(index=staging, ignore_unavailable=True)
        except Exception as e:  # the server may be what failed
            logger.warning("Could not delete staging index {index}: {err}", index=staging, err=e)

    # -------------------------------------------------------------- writing
    def _source(self, doc: Document) -> dict[str, Any]:
        src = doc.to_dict(flatten=True)
        for key in _DROP:
            src.pop(key, None)
        if src.get("embedding") is None or not self.embedding_dim:
            src.pop("embedding", None)
        title = doc.meta.get("title") if self.index_title else None
        src[COMBINED_FIELD] = f"{title}\n{doc.content or ''}" if title else (doc.content or "")
        return src

    def write_documents(
        self,
        documents: list[Document],
        policy: DuplicatePolicy = DuplicatePolicy.NONE,
        refresh: Literal["wait_for", True, False] | None = None,
    ) -> int:
        """Write documents in chunks (our ids as ``_id``); ``OVERWRITE`` replaces, ``SKIP`` keeps
        existing ones, ``NONE``/``FAIL`` raise :class:`DuplicateDocumentError` for existing ids
        (after writing the others).

        :param refresh: Override the store's ``refresh`` for this call. During a fresh build the
            staging index is refreshed once, by :meth:`commit_build`.
        :returns: Documents written (created or replaced).
        :raises odqa.components.stores.es_bulk.EsBulkError: documents rejected or server gone.
        """
        if not documents:
            return 0
        if not all(isinstance(d, Document) for d in documents):
            raise ValueError("param 'documents' must contain a list of objects of type Document")
        op = "index" if policy == DuplicatePolicy.OVERWRITE else "create"
        result = bulk_write(
            self.client,
            self.write_index,
            (BulkAction(op, d.id, self._source(d)) for d in documents),
            total=len(documents),
            chunk_size=self.chunk_size,
            retry=self.retry,
            progress_bar=self.progress_bar,
            url=self.config.safe_url,
        )
        if result.conflicts and policy in (DuplicatePolicy.NONE, DuplicatePolicy.FAIL):
            raise DuplicateDocumentError(
                f"IDs '{', '.join(result.conflicts)}' already exist in the document store."
            )
        want_refresh = self.refresh if refresh is None else bool(refresh)
        if want_refresh and self._write_index is None:
            self.client.indices.refresh(index=self._index)
        return result.written

    def save(self, path: str | None = None) -> None:
        """Make everything written searchable (refresh); ``path`` is ignored (the server persists)."""
        if self._write_index is None:
            self.client.indices.refresh(index=self._index)

    # -------------------------------------------------------------- reading
    def _deserialize_document(self, hit: dict[str, Any]) -> Document:
        source = hit.get("_source") or {}
        source.pop(COMBINED_FIELD, None)  # in case a server keeps it in _source
        if source.get("embedding") is None:
            source.pop("embedding", None)
        hit["_source"] = source
        return super()._deserialize_document(hit)

    def search_documents(
        self,
        query: dict[str, Any],
        *,
        top_k: int = 10,
        search_type: str | None = None,
        with_embeddings: bool = False,
        tie_break_by_id: bool = True,
    ) -> list[Document]:
        """Run one query (DSL) and return the ``top_k`` hits as documents with ``score``.

        :param tie_break_by_id: Order equal scores by id, descending -- as the embedded index does
            (trec_eval's order) -- so a cut at ``top_k`` is the same on both backends and across
            rebuilds (Elasticsearch's own tie order is internal document order). Costs speed on
            large indexes: a sort other than score alone disables Lucene's top-k pruning.
        """
        if top_k <= 0:
            return []
        excludes = [COMBINED_FIELD] if with_embeddings else [COMBINED_FIELD, "embedding"]
        kwargs: dict[str, Any] = {}
        if search_type:
            kwargs["search_type"] = search_type
        if tie_break_by_id:
            kwargs["sort"] = [
                {"_score": {"order": "desc"}},
                {"id": {"order": "desc", "unmapped_type": "keyword"}},
            ]
            kwargs["track_scores"] = True
        res = self.client.search(
            index=self._index,
            query=query,
            size=top_k,
            source_excludes=excludes,
            track_total_hits=False,
            **kwargs,
        )
        return [self._deserialize_document(h) for h in res["hits"]["hits"]]

    def knn_search(
        self,
        query_embedding: list[float],
        *,
        top_k: int = 10,
        filters: dict[str, Any] | None = None,
        num_candidates: int | None = None,
    ) -> list[Document]:
        """Approximate kNN (HNSW) over ``embedding``; needs an index made with ``embedding_dim``.

        With ``cosine`` similarity the score is the cosine (Elasticsearch reports ``(1 + cos) / 2``;
        it is converted back, so scores match FAISS's)."""
        if top_k <= 0:
            return []
        if not self.embedding_dim:
            raise ValueError("knn_search needs a store with embedding_dim (a dense_vector field)")
        knn: dict[str, Any] = {
            "field": "embedding",
            "query_vector": list(query_embedding),
            "k": top_k,
            "num_candidates": min(10_000, num_candidates or max(100, 10 * top_k)),
        }
        if filters:
            knn["filter"] = _normalize_filters(filters)
        res = self.client.search(
            index=self._index, knn=knn, size=top_k, source_excludes=[COMBINED_FIELD, "embedding"]
        )
        docs = [self._deserialize_document(h) for h in res["hits"]["hits"]]
        if self._embedding_similarity_function == "cosine":
            docs = [replace(d, score=2.0 * d.score - 1.0) if d.score is not None else d for d in docs]
        return docs
