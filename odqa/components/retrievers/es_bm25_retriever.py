"""BM25 retrieval from Elasticsearch, with the same interface as :class:`EmbeddedBM25Retriever`."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.document_stores.types import FilterPolicy
from haystack.document_stores.types.filter_policy import apply_filter_policy

from odqa.components.retrievers.es_query import PARITY_FIELDS, bm25_query
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore


@component
class ElasticsearchBM25Retriever:
    """Plain BM25 (no fuzziness) over an :class:`OdqaElasticsearchDocumentStore`; odqa builds the
    query itself (:func:`~odqa.components.retrievers.es_query.bm25_query`).

    :param document_store: The store (its index holds the analyzer and BM25 ``k1``/``b``).
    :param top_k: Documents to return.
    :param fields: Fields for ``multi_match``, with optional ``^boost``. Default ``["odqa_text"]``:
        title and content as one field, exactly what the embedded index scores, so both backends
        rank alike. ``["content", "title.text^0.5"]`` scores them as separate fields.
    :param match_type: ``best_fields`` (max over fields, plus ``tie_breaker`` x the others),
        ``most_fields`` (sum) or ``cross_fields`` (fields blended as one).
    :param tie_breaker: See ``match_type``.
    :param fuzziness: E.g. ``"AUTO"``; ``None`` (default) keeps BM25 plain.
    :param filters: Haystack metadata filters (pre-filtering; scores unchanged).
    :param filter_policy: How run-time filters combine with init-time ones.
    :param phrase_slop: Slop of the phrase clauses that ``boosts`` add.
    :param search_type: ``dfs_query_then_fetch`` for global statistics on multi-shard indexes.
    :param tie_break_by_id: Order equal scores by id (descending, like the embedded index):
        reproducible rankings; ``False`` is faster on large indexes (Lucene's top-k pruning).

    Usage::

        retriever = ElasticsearchBM25Retriever(document_store=OdqaElasticsearchDocumentStore())
        retriever.run(query="Who founded Warsaw?", boosts={"Warsaw": 2.0})["documents"]
    """

    def __init__(
        self,
        *,
        document_store: OdqaElasticsearchDocumentStore,
        top_k: int = 10,
        fields: list[str] | None = None,
        match_type: str = "best_fields",
        tie_breaker: float | None = None,
        fuzziness: str | None = None,
        filters: dict[str, Any] | None = None,
        filter_policy: str | FilterPolicy = FilterPolicy.REPLACE,
        phrase_slop: int = 0,
        search_type: str | None = None,
        tie_break_by_id: bool = True,
    ) -> None:
        if not isinstance(document_store, OdqaElasticsearchDocumentStore):
            raise ValueError("document_store must be an OdqaElasticsearchDocumentStore")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.document_store = document_store
        self.top_k = top_k
        self.fields = list(fields) if fields else list(PARITY_FIELDS)
        self.match_type = match_type
        self.tie_breaker = tie_breaker
        self.fuzziness = fuzziness
        self.filters = filters or {}
        self.filter_policy = (
            FilterPolicy.from_str(filter_policy) if isinstance(filter_policy, str) else filter_policy
        )
        self.phrase_slop = phrase_slop
        self.search_type = search_type
        self.tie_break_by_id = tie_break_by_id
        bm25_query("probe", fields=self.fields, match_type=match_type)  # validate arguments now

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            document_store=self.document_store.to_dict(),
            top_k=self.top_k,
            fields=self.fields,
            match_type=self.match_type,
            tie_breaker=self.tie_breaker,
            fuzziness=self.fuzziness,
            filters=self.filters,
            filter_policy=self.filter_policy.value,
            phrase_slop=self.phrase_slop,
            search_type=self.search_type,
            tie_break_by_id=self.tie_break_by_id,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ElasticsearchBM25Retriever:
        return default_from_dict(cls, data)  # Haystack builds the nested store (allow-listed modules)

    def warm_up(self) -> None:
        """Connect now: an unreachable server or a missing index fails here, within seconds."""
        self.document_store.check()

    def query_body(
        self, query: str, filters: dict[str, Any] | None = None, boosts: dict[str, float] | None = None
    ) -> dict[str, Any]:
        """The query DSL :meth:`run` sends (for logging and tests)."""
        merged = apply_filter_policy(self.filter_policy, self.filters, filters) or None
        return bm25_query(
            query,
            fields=self.fields,
            match_type=self.match_type,
            tie_breaker=self.tie_breaker,
            fuzziness=self.fuzziness,
            boosts=boosts,
            phrase_slop=self.phrase_slop,
            filters=merged,
        )

    @component.output_types(documents=list[Document])
    def run(
        self,
        query: str,
        top_k: int | None = None,
        filters: dict[str, Any] | None = None,
        boosts: dict[str, float] | None = None,
    ) -> dict[str, list[Document]]:
        """Retrieve documents for ``query``.

        :param boosts: Phrases (e.g. entities from query analysis) whose occurrence adds score.
        :returns: ``documents``, best first, each with its BM25 ``score``.
        """
        k = self.top_k if top_k is None else top_k
        if not query.strip():
            return {"documents": []}
        body = self.query_body(query, filters, boosts)
        return {
            "documents": self.document_store.search_documents(
                body, top_k=k, search_type=self.search_type, tie_break_by_id=self.tie_break_by_id
            )
        }
