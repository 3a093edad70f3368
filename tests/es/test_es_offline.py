"""Elasticsearch backend pieces that need no server: configuration, query DSL, index layout,
graph rewriting, and fast failure when the server is down."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import yaml
from haystack import Pipeline

from odqa.components.retrievers.es_bm25_retriever import ElasticsearchBM25Retriever
from odqa.components.retrievers.es_query import bm25_query
from odqa.components.stores.es_bulk import RetryPolicy
from odqa.components.stores.es_config import EsConfig, EsUnavailableError, is_standin, redact_url
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore
from odqa.components.stores.es_index import index_mappings, index_settings
from odqa.pipelines.backends import (
    EMBEDDED_RETRIEVER,
    ES_RETRIEVER,
    ES_STORE,
    apply_backend,
    check_backend,
    es_config_from_settings,
)
from odqa.pipelines.loader import TRUSTED_MODULES, available_pipelines


# ------------------------------------------------------------------ configuration
def test_config_from_env_reads_elasticsearch_variables() -> None:
    cfg = EsConfig.from_env(
        {
            "ELASTICSEARCH_URL": "https://es.example:9243",
            "ELASTICSEARCH_USERNAME": "odqa",
            "ELASTICSEARCH_CA_CERTS": "/etc/ca.pem",
            "ELASTICSEARCH_VERIFY_CERTS": "false",
        }
    )
    assert (cfg.url, cfg.username, cfg.ca_certs, cfg.verify_certs) == (
        "https://es.example:9243",
        "odqa",
        "/etc/ca.pem",
        False,
    )
    assert EsConfig.from_env({}).url == "http://127.0.0.1:9200"
    assert EsConfig.from_env({}, index="other", url=None).index == "other"


def test_auth_prefers_api_key_and_never_serialises_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELASTICSEARCH_PASSWORD", "pw-secret")
    cfg = EsConfig(url="https://h:9200", username="u", ca_certs="/ca.pem")
    kw = cfg.client_kwargs()
    assert kw["basic_auth"] == ("u", "pw-secret") and kw["ca_certs"] == "/ca.pem" and kw["verify_certs"]
    monkeypatch.setenv("ELASTICSEARCH_API_KEY", "key-secret")
    assert cfg.client_kwargs()["api_key"] == "key-secret" and "basic_auth" not in cfg.client_kwargs()
    store = OdqaElasticsearchDocumentStore(url="https://h:9200", username="u")
    assert "secret" not in repr(store.to_dict())


def test_es_config_from_settings_prefers_settings_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    class Settings:  # the fields odqa.config.Settings gets for this backend
        es_url = "http://from-settings:9200"
        es_index = None
        es_verify_certs = None

    monkeypatch.setenv("ELASTICSEARCH_INDEX", "from-env")
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://from-env:9200")
    cfg = es_config_from_settings(Settings())
    assert (cfg.url, cfg.index, cfg.verify_certs) == ("http://from-settings:9200", "from-env", True)


def test_redact_url_and_standin_detection() -> None:
    assert redact_url("https://user:pw@host:9200/x") == "https://host:9200/x"
    assert redact_url("http://127.0.0.1:9200") == "http://127.0.0.1:9200"
    assert is_standin({"name": "noida-db", "version": {"number": "8.15.3"}})
    assert not is_standin({"name": "node-1", "cluster_uuid": "abc", "version": {"build_hash": "f00"}})


def test_retry_policy_backs_off_exponentially_with_a_cap() -> None:
    p = RetryPolicy(max_retries=5, initial_backoff=0.5, max_backoff=3.0)
    assert [p.delay(i) for i in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


# ------------------------------------------------------------------ index layout and query DSL
def test_index_settings_carry_analyzer_and_bm25_parameters() -> None:
    s = index_settings(analyzer="english", k1=0.9, b=0.4)
    assert s["similarity"]["odqa_bm25"] == {"type": "BM25", "k1": 0.9, "b": 0.4}
    assert s["number_of_shards"] == 1
    m = index_mappings(analyzer="english")
    for field in (m["properties"]["content"], m["properties"]["title"]["fields"]["text"]):
        assert field["analyzer"] == "english" and field["similarity"] == "odqa_bm25"
    assert "embedding" not in m["properties"]
    assert index_mappings(embedding_dim=384)["properties"]["embedding"]["dims"] == 384
    with pytest.raises(ValueError, match="analyzer"):
        index_settings(analyzer="klingon")
    with pytest.raises(ValueError, match="k1"):
        index_settings(b=1.5)


def test_query_is_plain_multi_match_without_fuzziness() -> None:
    q = bm25_query("who founded warsaw", fields=["content", "title.text^0.5"])
    mm = q["bool"]["must"][0]["multi_match"]
    assert mm == {
        "query": "who founded warsaw",
        "fields": ["content", "title.text^0.5"],
        "type": "best_fields",
        "operator": "or",
    }
    assert "should" not in q["bool"] and "filter" not in q["bool"]


def test_query_boosts_are_phrase_clauses_and_filters_are_converted() -> None:
    q = bm25_query(
        "who founded warsaw",
        boosts={"Warsaw": 2.0, " ": 5.0, "ignored": 0.0},
        filters={"field": "meta.lang", "operator": "==", "value": "en"},
    )
    assert q["bool"]["should"] == [
        {
            "multi_match": {
                "query": "Warsaw",
                "fields": ["odqa_text"],
                "type": "phrase",
                "slop": 0,
                "boost": 2.0,
            }
        }
    ]
    assert q["bool"]["filter"] == {"bool": {"must": {"term": {"lang": "en"}}}}


def test_retriever_validates_and_round_trips() -> None:
    store = OdqaElasticsearchDocumentStore(url="http://127.0.0.1:1", index="x", analyzer="english")
    r = ElasticsearchBM25Retriever(document_store=store, top_k=7, fields=["content"], fuzziness="AUTO")
    pipe = Pipeline()
    pipe.add_component("bm25", r)
    again = Pipeline.from_dict(pipe.to_dict(), allowed_modules=list(TRUSTED_MODULES)).get_component("bm25")
    assert isinstance(again, ElasticsearchBM25Retriever) and again.to_dict() == r.to_dict()
    assert again.query_body("q")["bool"]["must"][0]["multi_match"]["fuzziness"] == "AUTO"
    with pytest.raises(ValueError, match="match type"):
        ElasticsearchBM25Retriever(document_store=store, match_type="phrase_prefix")
    assert r.run(query="   ")["documents"] == []  # no request for an empty query


# ------------------------------------------------------------------ graph rewriting
def _graph(name: str) -> dict:
    text = available_pipelines()[name].read_text(encoding="utf-8")
    return yaml.safe_load(text.replace("${", "{"))  # placeholders need not be filled here


@pytest.mark.parametrize("name", ["bm25", "hybrid", "qa"])
def test_apply_backend_swaps_the_bm25_retriever_only(name: str) -> None:
    graph = _graph(name)
    out = apply_backend(graph, "elasticsearch", EsConfig(url="http://es:9200", index="idx"))
    assert graph["components"]["bm25"]["type"] == EMBEDDED_RETRIEVER  # input untouched
    bm25 = out["components"]["bm25"]
    assert bm25["type"] == ES_RETRIEVER
    assert bm25["init_parameters"]["top_k"] == graph["components"]["bm25"]["init_parameters"]["top_k"]
    store = bm25["init_parameters"]["document_store"]
    assert store["type"] == ES_STORE
    assert store["init_parameters"]["url"] == "http://es:9200" and store["init_parameters"]["index"] == "idx"
    assert store["init_parameters"]["create_index"] is False
    for other in set(graph["components"]) - {"bm25"}:
        assert out["components"][other] == graph["components"][other]  # FAISS side etc. untouched
    assert out["connections"] == graph["connections"]


def test_apply_backend_swaps_the_indexing_writer_store_keeping_analysis() -> None:
    graph = _graph("indexing")
    out = apply_backend(graph, "elasticsearch", EsConfig())
    writer = out["components"]["bm25_writer"]["init_parameters"]
    embedded = graph["components"]["bm25_writer"]["init_parameters"]["document_store"]["init_parameters"]
    assert writer["policy"] == "overwrite"
    params = writer["document_store"]["init_parameters"]
    assert writer["document_store"]["type"] == ES_STORE
    assert {k: params[k] for k in ("analyzer", "k1", "b", "index_title")} == {
        k: embedded[k] for k in ("analyzer", "k1", "b", "index_title")
    }
    assert params["create_index"] is True and "path" not in params
    assert out["components"]["faiss_writer"] == graph["components"]["faiss_writer"]


def test_apply_backend_embedded_is_identity_and_unknown_backend_fails() -> None:
    graph = _graph("bm25")
    assert apply_backend(graph, "embedded", None) is graph
    with pytest.raises(ValueError, match="unknown backend"):
        apply_backend(graph, "solr", None)


def test_apply_backend_refuses_unknown_holders_of_the_embedded_store() -> None:
    graph = {
        "components": {
            "mine": {
                "type": "my.Component",
                "init_parameters": {
                    "document_store": {
                        "type": _graph("bm25")["components"]["bm25"]["init_parameters"]["document_store"][
                            "type"
                        ],
                        "init_parameters": {},
                    }
                },
            }
        }
    }
    with pytest.raises(ValueError, match="'mine'"):
        apply_backend(graph, "elasticsearch", EsConfig())


# ------------------------------------------------------------------ server down: fast, named errors
@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hung_server() -> Iterator[str]:
    """Accepts connections and never answers (a wedged server, or a firewall that drops)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        lst.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(lst.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{lst.getsockname()[1]}"
    stop.set()
    t.join()
    for c in held:
        c.close()
    lst.close()


def _assert_fast_named_failure(url: str, call: object) -> None:
    t0 = time.monotonic()
    with pytest.raises(EsUnavailableError) as err:
        call()  # type: ignore[operator]
    assert time.monotonic() - t0 < 5.0
    assert url in str(err.value) and "unreachable" in str(err.value)


def test_server_down_at_start_is_reported_within_5s(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    store = OdqaElasticsearchDocumentStore(url=url, index="odqa")
    _assert_fast_named_failure(url, store.count_documents)
    _assert_fast_named_failure(url, ElasticsearchBM25Retriever(document_store=store).warm_up)
    _assert_fast_named_failure(url, lambda: check_backend("elasticsearch", EsConfig(url=url)))
    assert check_backend("embedded", EsConfig(url=url)) is None


def test_hung_server_is_reported_within_5s(hung_server: str) -> None:
    store = OdqaElasticsearchDocumentStore(url=hung_server, index="odqa", connect_timeout=2.0)
    _assert_fast_named_failure(hung_server, store.check)
    _assert_fast_named_failure(hung_server, lambda: EsConfig(url=hung_server).check())


def test_apply_backend_can_move_the_dense_side_to_elasticsearch_knn() -> None:
    es = EsConfig(index="idx")
    hybrid = apply_backend(_graph("hybrid"), "elasticsearch", es, dense="elasticsearch")
    dense = hybrid["components"]["dense"]
    assert (
        dense["type"] == "odqa.components.retrievers.es_embedding_retriever.ElasticsearchEmbeddingRetriever"
    )
    params = dense["init_parameters"]["document_store"]["init_parameters"]
    assert params["index"] == "idx-dense" and params["embedding_dim"] == 384
    assert params["embedding_similarity_function"] == "cosine" and params["create_index"] is False
    assert hybrid["components"]["bm25"]["type"] == ES_RETRIEVER
    indexing = apply_backend(_graph("indexing"), "embedded", es, dense="elasticsearch")
    faiss_writer = indexing["components"]["faiss_writer"]["init_parameters"]["document_store"]
    assert faiss_writer["type"] == ES_STORE and faiss_writer["init_parameters"]["index"] == "idx-dense"
    assert indexing["components"]["bm25_writer"] == _graph("indexing")["components"]["bm25_writer"]
    with pytest.raises(ValueError, match="dense backend"):
        apply_backend(_graph("hybrid"), "elasticsearch", es, dense="milvus")
