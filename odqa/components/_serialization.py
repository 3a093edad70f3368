"""Helpers shared by odqa components for (de)serialising the document store they hold."""

from __future__ import annotations

from typing import Any

from haystack.core.errors import DeserializationError
from haystack.core.serialization import import_class_by_name

_STORE_MODULES = ("odqa.", "haystack.", "haystack_integrations.")


def deserialize_store(data: dict[str, Any], key: str = "document_store") -> None:
    """Replace ``data['init_parameters'][key]`` (a serialised store) by the store object, in place."""
    init = data.get("init_parameters", {})
    store = init.get(key)
    if not isinstance(store, dict) or "type" not in store:
        raise DeserializationError(
            f"{data.get('type')}: init parameter '{key}' must be a serialised document store"
        )
    if not str(store["type"]).startswith(_STORE_MODULES):
        raise DeserializationError(
            f"refusing document store class {store['type']!r} (not from {_STORE_MODULES})"
        )
    try:
        cls: Any = import_class_by_name(store["type"])
    except ImportError as e:
        raise DeserializationError(f"cannot import document store class {store['type']!r}: {e}") from e
    init[key] = cls.from_dict(store)
