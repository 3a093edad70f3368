"""Indexing into Elasticsearch end to end, and what happens when the server goes away mid-run.

"The server goes away" is a loopback TCP proxy between client and server that stops listening
and drops every connection (to the client: connection refused, exactly as a stopped server), then
listens again -- so these tests run unchanged against a real Elasticsearch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from es_support import Http429Proxy, TcpProxy, needs_server
from haystack import Document, Pipeline
from haystack.core.errors import PipelineRuntimeError
from haystack.document_stores.types import DuplicatePolicy

from odqa.components.stores.es_bulk import EsBulkError
from odqa.components.stores.es_config import EsConfig
from odqa.components.stores.es_document_store import OdqaElasticsearchDocumentStore
from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore
from odqa.components.writers.index_writer import IndexWriter
from odqa.models import ModelRegistry
from odqa.pipelines.backends import apply_backend, backend_indexing, es_store_dict
from odqa.pipelines.env import PipelineEnv
from odqa.pipelines.indexing import index_collection
from odqa.pipelines.loader import TRUSTED_MODULES, fill, find_pipeline, pipeline_values
from odqa.pipelines.runner import QueryRunner

pytestmark = [pytest.mark.integration, needs_server]

Store = Callable[..., OdqaElasticsearchDocumentStore]


@pytest.fixture
def proxy(es_config: EsConfig) -> Iterator[TcpProxy]:
    p = TcpProxy(es_config.url)
    yield p
    p.close()


def passages(n: int) -> list[Document]:
    return [
        Document(id=f"p{i:03d}#0", content=f"passage {i} text", meta={"doc_id": f"p{i:03d}"})
        for i in range(n)
    ]


def ids_of(store: OdqaElasticsearchDocumentStore) -> list[str]:
    return sorted(d.id for d in store.filter_documents())


# ------------------------------------------------------------------ outages during bulk writes
def test_short_outage_mid_write_is_absorbed_by_retries(make_store: Store, proxy: TcpProxy) -> None:
    make_store().check()  # the index exists before the proxy starts failing
    store = make_store(url=proxy.url, chunk_size=5, max_retries=6, initial_backoff=0.25, max_backoff=1.0)
    store.check()
    proxy.down_after_requests = 2  # the 3rd bulk request finds the server gone ...

    def restart() -> None:
        if proxy.tripped.wait(timeout=60):
            time.sleep(1.0)  # ... and back a second later
        proxy.down_after_requests = None
        proxy.come_back()

    restarter = threading.Thread(target=restart, daemon=True)
    restarter.start()
    assert store.write_documents(passages(23), policy=DuplicatePolicy.OVERWRITE) == 23
    restarter.join()
    assert proxy.tripped.is_set() and proxy.requests_seen > 2
    direct = make_store()
    assert direct.count_documents() == 23
    assert ids_of(direct) == [d.id for d in passages(23)]


def test_429_too_many_requests_backs_off_and_completes(make_store: Store, es_config: EsConfig) -> None:

    make_store().check()
    proxy = Http429Proxy(es_config.url, reject=3)
    try:
        store = make_store(url=proxy.url, chunk_size=10, max_retries=5, initial_backoff=0.2, max_backoff=1.0)
        assert store.write_documents(passages(25), policy=DuplicatePolicy.OVERWRITE) == 25
    finally:
        proxy.close()
    assert proxy.rejected == 3 and proxy.forwarded >= 3  # 3 chunks, each written once it got through
    gaps = [b - a for a, b in zip(proxy.times, proxy.times[1:], strict=False)]
    assert max(gaps) >= 0.2  # it waited (initial_backoff) before retrying, not hammered the server
    direct = make_store()
    assert direct.count_documents() == 25 and ids_of(direct) == sorted(d.id for d in passages(25))


def test_server_gone_mid_write_reports_unwritten_ids_and_resumes_without_duplicates(
    make_store: Store, proxy: TcpProxy
) -> None:
    make_store().check()
    store = make_store(url=proxy.url, chunk_size=5, max_retries=2, initial_backoff=0.05)
    store.check()
    proxy.down_after_requests = 2
    docs = passages(23)
    with pytest.raises(EsBulkError) as err:
        store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE)
    e = err.value
    assert e.written == 10 and e.failed == []
    assert e.unwritten == [d.id for d in docs[10:]]
    assert proxy.url in str(e) and "unreachable" in str(e) and "again to resume" in str(e)
    direct = make_store()
    direct.save()
    assert direct.count_documents() == 10

    proxy.down_after_requests = None
    proxy.come_back()
    assert store.write_documents(docs, policy=DuplicatePolicy.OVERWRITE) == 23  # run it again
    assert direct.count_documents() == 23
    assert ids_of(direct) == [d.id for d in docs]


# ------------------------------------------------------------------ fresh builds around a pipeline
def writer_pipeline(store: OdqaElasticsearchDocumentStore) -> Pipeline:
    pipe = Pipeline()
    pipe.add_component("bm25_writer", IndexWriter(document_store=store, policy="overwrite"))  # type: ignore[arg-type]
    return pipe


def test_backend_indexing_swaps_in_a_complete_index_only(make_store: Store) -> None:
    live = make_store()
    live.write_documents(passages(3), policy=DuplicatePolicy.OVERWRITE)
    store = make_store(refresh=False)
    pipe = writer_pipeline(store)
    with pytest.raises(RuntimeError, match="interrupted"), backend_indexing(pipe, fresh=True):
        pipe.run({"bm25_writer": {"documents": passages(8)[3:]}})
        raise RuntimeError("interrupted")
    assert ids_of(live) == [d.id for d in passages(3)]  # untouched
    with backend_indexing(pipe, fresh=True):
        pipe.run({"bm25_writer": {"documents": passages(8)[3:]}})
    assert ids_of(live) == [d.id for d in passages(8)[3:]]  # replaced, old passages gone
    with backend_indexing(pipe, fresh=False):  # incremental: into the live index
        pipe.run({"bm25_writer": {"documents": passages(2)}})
    assert live.count_documents() == 7


# ------------------------------------------------------------------ odqa's indexing and query graphs
@pytest.fixture
def collection(tmp_path: Path) -> Path:
    rows = [
        {"id": "warsaw", "title": "Warsaw", "text": "Warsaw is the capital and largest city of Poland. " * 3},
        {
            "id": "tesla",
            "title": "Nikola Tesla",
            "text": "Nikola Tesla was an inventor of alternating current.",
        },
        {"id": "krakow", "title": "Kraków", "text": "Kraków was the capital of Poland until 1596."},
        {"id": "vistula", "title": "Vistula", "text": "The Vistula flows through Kraków and Warsaw."},
        {"id": "edison", "title": "Edison", "text": "Thomas Edison promoted direct current."},
        {"id": "gdansk", "title": "Gdańsk", "text": "Gdańsk is a port city on the Baltic coast."},
    ]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def es_overrides(es: EsConfig, **store_params: Any) -> dict[str, dict[str, Any]]:
    """What ``load_pipeline(..., backend="elasticsearch")`` will do for the indexing graph, as an
    override (the loader hook is integrated separately)."""
    graph = yaml.safe_load(find_pipeline("indexing").read_text(encoding="utf-8").replace("${", "{"))
    embedded = graph["components"]["bm25_writer"]["init_parameters"]["document_store"]["init_parameters"]
    store = es_store_dict(es, embedded, writer=True)
    store["init_parameters"].update(store_params)
    return {"bm25_writer": {"document_store": store}}


def load_es_pipeline(name: str, index_dir: Path, registry: ModelRegistry, es: EsConfig) -> Pipeline:
    """``load_pipeline`` with the backend hook, step by step."""
    text = find_pipeline(name).read_text(encoding="utf-8")
    data = yaml.safe_load(fill(text, pipeline_values(text, index_dir=index_dir, registry=registry)))
    return Pipeline.from_dict(apply_backend(data, "elasticsearch", es), allowed_modules=list(TRUSTED_MODULES))


@pytest.fixture
def registry(tmp_path: Path, minilm_path: str) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


def faiss_ids(index_dir: Path) -> list[str]:
    store = OdqaFAISSDocumentStore(path=str(index_dir / "faiss"))
    store.warm_up()
    return sorted(store.documents)


def test_one_index_run_writes_es_text_and_faiss_vectors_with_the_same_ids(
    tmp_path: Path, collection: Path, registry: ModelRegistry, es_config: EsConfig, index_name: str
) -> None:

    es = EsConfig.from_env(index=index_name)
    index_dir = tmp_path / "idx"
    report = index_collection(
        collection,
        env=PipelineEnv(index_dir=index_dir, registry=registry),
        overrides=es_overrides(es),
        progress=False,
    )
    reader = OdqaElasticsearchDocumentStore(url=es.url, index=index_name, create_index=False)
    assert reader.count_documents() == report.passages == len(faiss_ids(index_dir))
    assert ids_of(reader) == faiss_ids(index_dir)
    assert not (index_dir / "bm25").exists()  # no embedded BM25 index written

    # re-indexing the same collection: same ids, no duplicates
    index_collection(
        collection,
        env=PipelineEnv(index_dir=index_dir, registry=registry),
        overrides=es_overrides(es),
        progress=False,
    )
    assert reader.count_documents() == report.passages

    bm25 = QueryRunner(load_es_pipeline("bm25", index_dir, registry, es))
    docs = bm25.run("capital of Poland").outputs["bm25"]["documents"]
    assert docs[0].meta["doc_id"] in {"warsaw", "krakow"} and docs[0].meta["title"]
    hybrid = QueryRunner(load_es_pipeline("hybrid", index_dir, registry, es))
    out = hybrid.run("who invented alternating current").outputs
    assert out["fusion"]["documents"][0].meta["doc_id"] == "tesla"
    assert {d.id for d in out["bm25"]["documents"]} <= set(faiss_ids(index_dir))


def test_server_stopped_mid_indexing_then_resumed(
    tmp_path: Path,
    collection: Path,
    registry: ModelRegistry,
    es_config: EsConfig,
    index_name: str,
    proxy: TcpProxy,
) -> None:

    es = EsConfig.from_env(index=index_name, url=proxy.url)
    overrides = es_overrides(es, chunk_size=2, max_retries=1, initial_backoff=0.05)
    OdqaElasticsearchDocumentStore(url=es_config.url, index=index_name).check()
    proxy.down_after_requests = 1  # after the first bulk request the server is gone
    index_dir = tmp_path / "idx"
    with pytest.raises(PipelineRuntimeError, match="again to resume") as err:
        index_collection(
            collection,
            env=PipelineEnv(index_dir=index_dir, registry=registry),
            overrides=overrides,
            chunk_size=3,
            progress=False,
        )
    cause = err.value.__cause__  # Haystack wraps component errors
    assert isinstance(cause, EsBulkError) and cause.written == 2 and len(cause.unwritten) >= 1
    assert not index_dir.exists()  # the fresh FAISS index was not swapped in either

    proxy.down_after_requests = None
    proxy.come_back()
    report = index_collection(
        collection,
        env=PipelineEnv(index_dir=index_dir, registry=registry),
        overrides=overrides,
        chunk_size=3,
        progress=False,
    )
    reader = OdqaElasticsearchDocumentStore(url=es_config.url, index=index_name, create_index=False)
    reader.save()
    assert reader.count_documents() == report.passages
    assert ids_of(reader) == faiss_ids(index_dir)
