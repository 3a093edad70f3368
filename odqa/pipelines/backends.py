"""Choose the sparse (BM25) backend of a pipeline graph by configuration.

The built-in graphs name the embedded BM25 components. With ``backend="elasticsearch"``,
:func:`apply_backend` rewrites the parsed graph (the dict Haystack's ``Pipeline.from_dict`` takes):

* every :class:`~odqa.components.retrievers.bm25_retriever.EmbeddedBM25Retriever` (the ``bm25``
  component of the ``bm25``, ``hybrid`` and ``qa`` graphs) becomes an
  :class:`~odqa.components.retrievers.es_bm25_retriever.ElasticsearchBM25Retriever` with the same
  ``top_k``/``filters``/``filter_policy``, over an existing index (``create_index: false``);
* the :class:`~odqa.components.stores.bm25_document_store.EmbeddedBM25DocumentStore` of every
  :class:`~odqa.components.writers.index_writer.IndexWriter` (``bm25_writer`` in ``indexing``)
  becomes an :class:`~odqa.components.stores.es_document_store.OdqaElasticsearchDocumentStore`
  with the same analyzer, ``k1``, ``b`` and ``index_title``.

FAISS (the dense side) is untouched, and passages keep their ids on both sides. Connection
settings go into the graph without secrets: the API key and password stay in environment
variables, named in the graph.

For indexing, :func:`backend_indexing` gives an Elasticsearch index the same all-or-nothing
behaviour as the embedded directory swap, and :func:`check_backend` fails fast (within 5 s) when
the server is down, before any document is read or embedded.

Usage (as :func:`odqa.pipelines.loader.load_pipeline` does)::

    data = apply_backend(yaml.safe_load(text), "elasticsearch", EsConfig.from_env())
    pipe = Pipeline.from_dict(data, allowed_modules=[...])
    with backend_indexing(pipe, fresh=True):
        pipe.run(...)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from haystack import Pipeline

from odqa.components.stores.es_config import EsConfig, EsUnavailableError

__all__ = [
    "BACKENDS",
    "EsConfig",
    "EsUnavailableError",
    "apply_backend",
    "backend_indexing",
    "check_backend",
    "es_config_from_settings",
    "es_stores",
]

BACKENDS = ("embedded", "elasticsearch")

EMBEDDED_RETRIEVER = "odqa.components.retrievers.bm25_retriever.EmbeddedBM25Retriever"
EMBEDDED_STORE = "odqa.components.stores.bm25_document_store.EmbeddedBM25DocumentStore"
INDEX_WRITER = "odqa.components.writers.index_writer.IndexWriter"
ES_RETRIEVER = "odqa.components.retrievers.es_bm25_retriever.ElasticsearchBM25Retriever"
ES_STORE = "odqa.components.stores.es_document_store.OdqaElasticsearchDocumentStore"
FAISS_RETRIEVER = "odqa.components.retrievers.faiss_retriever.FaissRetriever"
FAISS_STORE = "odqa.components.stores.faiss_document_store.OdqaFAISSDocumentStore"
ES_EMBEDDING_RETRIEVER = "odqa.components.retrievers.es_embedding_retriever.ElasticsearchEmbeddingRetriever"
DENSE_BACKENDS = ("faiss", "elasticsearch")
#: suffix of the kNN index name (vectors live apart from the BM25 passages: both writers replace
#: whole documents, so sharing one index would let one writer erase the other's fields)
DENSE_SUFFIX = "-dense"
#: FAISS metric -> Elasticsearch dense_vector similarity
_ES_SIMILARITY = {"cosine": "cosine", "ip": "max_inner_product", "l2": "l2_norm"}

#: init parameters that carry over from the embedded store / retriever
_STORE_KEYS = ("analyzer", "k1", "b", "index_title")
_RETRIEVER_KEYS = ("top_k", "filters", "filter_policy")


def _connection_params(es: EsConfig) -> dict[str, Any]:
    return {
        "url": es.url,
        "index": es.index,
        "username": es.username,
        "api_key_env": es.api_key_env,
        "password_env": es.password_env,
        "ca_certs": es.ca_certs,
        "verify_certs": es.verify_certs,
        "request_timeout": es.request_timeout,
        "connect_timeout": es.connect_timeout,
    }


def es_store_dict(
    es: EsConfig, embedded_params: dict[str, Any] | None = None, *, writer: bool
) -> dict[str, Any]:
    """A serialised :class:`OdqaElasticsearchDocumentStore` for a graph."""
    params = _connection_params(es)
    params.update({k: v for k, v in (embedded_params or {}).items() if k in _STORE_KEYS})
    if writer:
        params.update(create_index=True, refresh=False, progress_bar=True)
    else:
        params.update(create_index=False)
    return {"type": ES_STORE, "init_parameters": params}


def _dense_store_dict(es: EsConfig, faiss_params: dict[str, Any] | None, *, writer: bool) -> dict[str, Any]:
    params = _connection_params(es)
    params["index"] = es.index + DENSE_SUFFIX
    params["embedding_dim"] = int((faiss_params or {}).get("embedding_dim", 384))
    metric = (faiss_params or {}).get("metric", "cosine")
    params["embedding_similarity_function"] = _ES_SIMILARITY.get(metric, "l2_norm")
    if writer:
        params.update(create_index=True, refresh=False, progress_bar=True)
    else:
        params.update(create_index=False)
    return {"type": ES_STORE, "init_parameters": params}


def _apply_dense(out: dict[str, Any], es: EsConfig) -> None:
    for comp in (out.get("components") or {}).values():
        params = comp.setdefault("init_parameters", {}) or {}
        store = params.get("document_store")
        faiss_params = store.get("init_parameters") if isinstance(store, dict) else None
        if comp.get("type") == FAISS_RETRIEVER:
            kept = {k: v for k, v in params.items() if k in _RETRIEVER_KEYS}
            comp["type"] = ES_EMBEDDING_RETRIEVER
            comp["init_parameters"] = {
                **kept,
                "document_store": _dense_store_dict(es, faiss_params, writer=False),
            }
        elif (
            isinstance(store, dict) and store.get("type") == FAISS_STORE and comp.get("type") == INDEX_WRITER
        ):
            params["document_store"] = _dense_store_dict(es, faiss_params, writer=True)


def apply_backend(
    graph: dict[str, Any], backend: str, es: EsConfig | None = None, *, dense: str = "faiss"
) -> dict[str, Any]:
    """Return ``graph`` with its BM25 side on ``backend`` (a new dict; ``graph`` is not changed).

    :param backend: ``embedded`` (graph returned as is) or ``elasticsearch``.
    :param es: Connection settings; default :meth:`EsConfig.from_env`.
    :param dense: ``faiss`` (default) or ``elasticsearch``: with the latter, FAISS retrievers and
        FAISS writers move to Elasticsearch kNN too, in the index ``<index>-dense``.
    :raises ValueError: unknown backend, or a component that holds the embedded BM25 store and
        has no Elasticsearch counterpart.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if dense not in DENSE_BACKENDS:
        raise ValueError(f"unknown dense backend {dense!r}; choose one of {', '.join(DENSE_BACKENDS)}")
    if backend == "embedded" and dense == "faiss":
        return graph
    cfg = es or EsConfig.from_env()
    out = copy.deepcopy(graph)
    if dense == "elasticsearch":
        _apply_dense(out, cfg)
    if backend == "embedded":
        return out
    for name, comp in (out.get("components") or {}).items():
        params = comp.setdefault("init_parameters", {}) or {}
        store = params.get("document_store")
        store_type = store.get("type") if isinstance(store, dict) else None
        if comp.get("type") == EMBEDDED_RETRIEVER:
            kept = {k: v for k, v in params.items() if k in _RETRIEVER_KEYS}
            embedded = (store or {}).get("init_parameters") if isinstance(store, dict) else None
            comp["type"] = ES_RETRIEVER
            comp["init_parameters"] = {**kept, "document_store": es_store_dict(cfg, embedded, writer=False)}
        elif store_type == EMBEDDED_STORE:
            if comp.get("type") != INDEX_WRITER:
                raise ValueError(
                    f"component {name!r} ({comp.get('type')}) uses the embedded BM25 store and has no "
                    "Elasticsearch counterpart; use backend 'embedded' for this graph"
                )
            embedded = store.get("init_parameters") if isinstance(store, dict) else None
            params["document_store"] = es_store_dict(cfg, embedded, writer=True)
    return out


def es_config_from_settings(settings: Any) -> EsConfig:
    """:class:`EsConfig` from odqa's ``Settings``: its ``es_*`` fields where set, else the
    ``ELASTICSEARCH_*`` environment variables (secrets always come from the environment)."""
    fields = ("url", "index", "username", "ca_certs", "verify_certs", "request_timeout")
    return EsConfig.from_env(**{f: getattr(settings, f"es_{f}", None) for f in fields})


def check_backend(backend: str, es: EsConfig | None = None) -> dict[str, Any] | None:
    """For ``elasticsearch``: reach the server (within ``connect_timeout``: 4 s by default) and
    return its info; ``None`` for ``embedded``.

    :raises EsUnavailableError: the server is down or refuses the credentials (names the URL).
    """
    if backend != "elasticsearch":
        return None
    return (es or EsConfig.from_env()).check()


def es_stores(pipeline: Pipeline) -> list[Any]:
    """The Elasticsearch stores held by ``pipeline``'s components (each once)."""
    from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore

    found: list[Any] = []
    for _, instance in pipeline.walk():
        store = getattr(instance, "document_store", None)
        if isinstance(store, OdqaElasticsearchDocumentStore) and all(s is not store for s in found):
            found.append(store)
    return found


@contextmanager
def backend_indexing(pipeline: Pipeline, *, fresh: bool) -> Iterator[None]:
    """Wrap an indexing run. ``fresh``: every Elasticsearch store of ``pipeline`` writes into a
    new index that replaces the live one (alias swap) only when the block completes; on failure
    the live index is untouched. Not ``fresh``: writes go to the live index (idempotent by id).
    Either way a failed run is resumed by running it again, without duplicates. A no-op for
    pipelines without Elasticsearch stores."""
    stores = es_stores(pipeline)
    if not fresh or not stores:
        yield
        for s in stores:
            s.save()
        return
    for s in stores:
        s.begin_build()
    try:
        yield
    except BaseException:
        for s in stores:
            s.abort_build()
        raise
    for s in stores:
        s.commit_build()
