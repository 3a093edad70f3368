"""Build Elasticsearch query DSL for plain BM25 retrieval.

One ``multi_match`` over explicit fields, OR of the query terms, no fuzziness (a BM25 baseline
must be plain BM25: fuzzy expansion adds terms the query does not contain, with their own idf).
Optional pieces:

* ``boosts`` (phrases from query analysis, e.g. entities) become ``should`` clauses: a
  ``multi_match`` of type ``phrase`` over the same fields, weighted by the boost. They add score to
  documents that contain the phrase; they never admit documents the main query does not match.
* ``filters`` (Haystack metadata filters) become a ``bool.filter`` via elasticsearch-haystack's
  converter: exact pre-filtering that does not change scores.

Usage::

    bm25_query("who founded warsaw", fields=["odqa_text"], boosts={"Warsaw": 2.0},
               filters={"field": "meta.lang", "operator": "==", "value": "en"})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from haystack_integrations.document_stores.elasticsearch.filters import _normalize_filters

from odqa.components.stores.es_index import COMBINED_FIELD

#: Parity with the embedded index: title and content scored as one field.
PARITY_FIELDS = (COMBINED_FIELD,)
#: Title and content as separate fields (per-field BM25 statistics), title weighted down.
SPLIT_FIELDS = ("content", "title.text^0.5")
MATCH_TYPES = ("best_fields", "most_fields", "cross_fields")


def bm25_query(
    query: str,
    *,
    fields: Sequence[str] = PARITY_FIELDS,
    match_type: str = "best_fields",
    tie_breaker: float | None = None,
    fuzziness: str | None = None,
    boosts: Mapping[str, float] | None = None,
    phrase_slop: int = 0,
    filters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``query`` part of a search request (see the module docstring)."""
    if match_type not in MATCH_TYPES:
        raise ValueError(f"unknown match type {match_type!r}; choose one of {', '.join(MATCH_TYPES)}")
    if not fields:
        raise ValueError("bm25_query needs at least one field")
    main: dict[str, Any] = {"query": query, "fields": list(fields), "type": match_type, "operator": "or"}
    if tie_breaker is not None:
        main["tie_breaker"] = tie_breaker
    if fuzziness:
        main["fuzziness"] = fuzziness
    clause: dict[str, Any] = {"must": [{"multi_match": main}]}
    should = [
        {
            "multi_match": {
                "query": phrase,
                "fields": list(fields),
                "type": "phrase",
                "slop": phrase_slop,
                "boost": float(weight),
            }
        }
        for phrase, weight in (boosts or {}).items()
        if phrase.strip() and weight > 0
    ]
    if should:
        clause["should"] = should
    if filters:
        clause["filter"] = _normalize_filters(filters)
    return {"bool": clause}
