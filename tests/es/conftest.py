"""Fixtures for tests against a real Elasticsearch 8 or the noida-db stand-in (ELASTICSEARCH_URL).

Every test index is named ``odqa-test-<random>`` and deleted afterwards (with its versioned
physical indexes)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # before Haystack is imported: no calls home

import pytest
from es_support import SERVER_INFO, SKIP_REASON

from odqa.components.stores.es_config import EsConfig
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore


@pytest.fixture(scope="session")
def es_config() -> EsConfig:
    if SERVER_INFO is None:
        pytest.skip(SKIP_REASON)
    return EsConfig.from_env()


@pytest.fixture
def index_name(es_config: EsConfig) -> Iterator[str]:
    name = f"odqa-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = es_config.client()
    # Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name): name each index
    found = client.indices.get_alias(index=f"{name}--*", allow_no_indices=True)
    for physical in found.body:
        client.indices.delete(index=physical, ignore_unavailable=True)


@pytest.fixture
def make_store(es_config: EsConfig, index_name: str) -> Callable[..., OdqaElasticsearchDocumentStore]:
    """A store on the test server; keyword arguments go to the store (``index`` defaults to the
    test's own index)."""

    def make(**kwargs: Any) -> OdqaElasticsearchDocumentStore:
        kwargs.setdefault("url", es_config.url)
        kwargs.setdefault("index", index_name)
        kwargs.setdefault("k1", 1.2)
        kwargs.setdefault("b", 0.75)
        return OdqaElasticsearchDocumentStore(**kwargs)

    return make
