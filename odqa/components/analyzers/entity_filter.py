"""Keep the passages that mention one of the question's entities (entities tagged at index time)."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document

from odqa.components.analyzers.entities import NUMERIC_TYPES, Entity, keys_match


@component
class EntityFilter:
    """Filter a ranked list to the passages whose ``meta[meta_field]`` (entity keys written by
    :class:`~odqa.components.preprocessors.entity_tagger.EntityTagger`) match one of the question's
    named entities: the same key, or one a whole-word part of the other (a question about
    ``Tesla`` keeps passages that mention ``Nikola Tesla``; see
    :func:`~odqa.components.analyzers.entities.keys_match`).

    Why a component and not a retriever ``filters`` argument: Haystack's in-memory filters compare
    a list-valued meta field as a whole (``in`` never matches one element of a list), so the
    embedded store cannot express "mentions any of these". This works after any retriever or the
    fusion, and keeps the ranking order.

    It is a no-op (the list passes unchanged, cut to ``top_k``) when it is disabled, when the
    question has no name entity (dates and numbers are not used), when the passages carry no
    entities (an index built without the tagger), or when fewer than ``min_documents`` passages
    match -- a filter must never leave the reader with nothing.

    :param enabled: the switch (``false`` in a graph turns the filter off).
    :param meta_field: the passage meta field holding entity keys.
    :param types: entity types to filter on (default: every type but dates, times and numbers).
    :param top_k: passages to return (``None`` keeps all).
    :param min_documents: fewer matching passages than this and the filter stands down.

    Usage::

        f = EntityFilter(top_k=20)
        f.run(documents=fused, entities=analyzer_out["entities"])  # {"documents": [...], "report": {...}}
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        meta_field: str = "entities",
        types: list[str] | None = None,
        top_k: int | None = None,
        min_documents: int = 1,
    ) -> None:
        self.enabled = enabled
        self.meta_field = meta_field
        self.types = list(types) if types is not None else None
        self.top_k = top_k
        self.min_documents = min_documents

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            enabled=self.enabled,
            meta_field=self.meta_field,
            types=self.types,
            top_k=self.top_k,
            min_documents=self.min_documents,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntityFilter:
        return default_from_dict(cls, data)

    def keys_of(self, entities: list[Entity]) -> list[str]:
        """The match keys of the entities the filter uses, sorted."""
        wanted = set(self.types) if self.types is not None else None
        keys = {
            e.key
            for e in entities
            if e.key and (e.label in wanted if wanted is not None else e.label not in NUMERIC_TYPES)
        }
        return sorted(keys)

    @staticmethod
    def mentions(passage_keys: list[str], keys: list[str]) -> bool:
        """Whether any passage key matches any question key."""
        return any(keys_match(q, p) for q in keys for p in passage_keys)

    @component.output_types(documents=list[Document], report=dict[str, Any])
    def run(
        self, documents: list[Document], entities: list[Entity] | None = None, top_k: int | None = None
    ) -> dict[str, Any]:
        """Filter ``documents`` (best first) by ``entities`` (the analyzer's output).

        :returns: ``documents`` and a ``report``: ``applied``, the ``keys`` used, how many passages
            were ``kept`` and ``dropped``, or the ``reason`` it stood down.
        """
        k = self.top_k if top_k is None else top_k
        keys = self.keys_of(entities or []) if self.enabled else []

        def unchanged(reason: str) -> dict[str, Any]:
            return {"documents": documents[:k], "report": {"applied": False, "keys": keys, "reason": reason}}

        if not self.enabled:
            return unchanged("disabled")
        if not keys:
            return unchanged("no name entity in the question")
        if documents and not any(self.meta_field in d.meta for d in documents):
            return unchanged(f"passages have no meta[{self.meta_field!r}] (index built without EntityTagger)")
        kept = [d for d in documents if self.mentions(d.meta.get(self.meta_field) or [], keys)]
        if len(kept) < self.min_documents:
            return unchanged(f"{len(kept)} passage(s) mention {keys}, fewer than {self.min_documents}")
        return {
            "documents": kept[:k],
            "report": {
                "applied": True,
                "keys": keys,
                "kept": len(kept),
                "dropped": len(documents) - len(kept),
            },
        }
