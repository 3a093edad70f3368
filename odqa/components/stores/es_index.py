"""Elasticsearch index settings and mappings for odqa passages.

The same text analysis and BM25 parameters as the embedded index
(:mod:`odqa.components.stores.analysis`, :class:`~odqa.components.stores.bm25_index.BM25Index`):

* ``analyzer`` -- Elasticsearch's built-in ``standard`` or ``english`` analyzer;
* ``k1``/``b`` -- a ``BM25`` similarity named ``odqa_bm25`` in the index settings, set on every
  text field;
* one shard by default: BM25 statistics (document frequencies, average length) are per shard, so
  with several shards scores depend on routing unless searches use ``dfs_query_then_fetch``.

Fields of a passage (a Haystack ``Document`` flattened, as elasticsearch-haystack stores it):

=================== ============================================================================
``id``              keyword: our passage id (also the Elasticsearch ``_id``)
``content``         text: the passage
``title``           keyword (exact filters), with sub-field ``title.text`` (text, searchable)
``odqa_text``       text: title + newline + content, i.e. exactly what the embedded index scores;
                    indexed, not kept in ``_source`` (no second copy of the text on disk)
``embedding``       ``dense_vector`` when ``embedding_dim`` is given (optional kNN)
other meta          strings as keyword (filters), numbers as numbers (dynamic mapping)
=================== ============================================================================
"""

from __future__ import annotations

from typing import Any

ES_ANALYZERS = ("standard", "english")
SIMILARITY = "odqa_bm25"
COMBINED_FIELD = "odqa_text"


def index_settings(
    *,
    analyzer: str = "standard",
    k1: float = 0.9,
    b: float = 0.4,
    shards: int = 1,
    replicas: int | None = None,
) -> dict[str, Any]:
    """``settings`` for ``indices.create``."""
    if analyzer not in ES_ANALYZERS:
        raise ValueError(f"unknown analyzer {analyzer!r}; choose one of {', '.join(ES_ANALYZERS)}")
    if k1 < 0 or not 0.0 <= b <= 1.0:
        raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
    settings: dict[str, Any] = {
        "number_of_shards": shards,
        "similarity": {SIMILARITY: {"type": "BM25", "k1": k1, "b": b}},
    }
    if replicas is not None:
        settings["number_of_replicas"] = replicas
    return settings


def index_mappings(
    *, analyzer: str = "standard", embedding_dim: int | None = None, similarity: str = "cosine"
) -> dict[str, Any]:
    """``mappings`` for ``indices.create``."""
    text = {"type": "text", "analyzer": analyzer, "similarity": SIMILARITY}
    properties: dict[str, Any] = {
        "id": {"type": "keyword"},
        "content": dict(text),
        "title": {"type": "keyword", "ignore_above": 4096, "fields": {"text": dict(text)}},
        COMBINED_FIELD: dict(text),
        "doc_id": {"type": "keyword"},
    }
    if embedding_dim:
        properties["embedding"] = {
            "type": "dense_vector",
            "dims": embedding_dim,
            "index": True,
            "similarity": similarity,
            "index_options": {"type": "hnsw"},  # full-precision vectors (8.14+ defaults to int8)
        }
    return {
        "_source": {"excludes": [COMBINED_FIELD]},
        "properties": properties,
        "dynamic_templates": [
            {
                "strings": {
                    "match_mapping_type": "string",
                    "mapping": {"type": "keyword", "ignore_above": 4096},
                }
            }
        ],
    }


def settings_summary(settings: dict[str, Any], mappings: dict[str, Any]) -> dict[str, Any]:
    """``{analyzer, k1, b, shards}`` as read back from ``indices.get`` (values may be strings)."""
    index = settings.get("index", settings)
    sim = (index.get("similarity") or {}).get(SIMILARITY) or {}
    props = mappings.get("properties") or {}
    analyzer = (props.get("content") or {}).get("analyzer", "standard")
    return {
        "analyzer": analyzer,
        "k1": float(sim["k1"]) if "k1" in sim else None,
        "b": float(sim["b"]) if "b" in sim else None,
        "shards": int(index.get("number_of_shards", 1)),
    }
