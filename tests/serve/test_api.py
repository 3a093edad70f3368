"""The REST API over HTTP: a real server, real models, a real index (tests/serve/conftest.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import Server, run_server

from odqa.pipelines.env import PipelineEnv

QUESTION = "Where did Tesla move in 1884?"


def ask(server: Server, **body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/ask", json=body, timeout=120)


def test_health_ready_and_pipelines(server: Server) -> None:
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/ready").json()
    assert ready["ready"] is True and ready["pipelines"] == ["qa", "bm25"]
    pipelines = httpx.get(f"{server.url}/v1/pipelines").json()
    qa = next(p for p in pipelines if p["name"] == "qa")
    assert qa["loaded"] and "reader" in qa["components"] and qa["params"]["fusion"] == ["top_k"]
    assert "ranker" not in qa["params"]  # only parameters of the graph's own components
    assert httpx.get(f"{server.url}/docs").status_code == 200
    assert "/v1/ask" in httpx.get(f"{server.url}/openapi.json").json()["paths"]


def test_ask_returns_spans_sources_and_timings(server: Server) -> None:
    r = ask(server, question=QUESTION, top_k=3, depth=2)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["pipeline"] == "qa" and data["interpreted_as"] is None
    assert 1 <= len(data["answers"]) <= 3 and len(data["passages"]) == 2  # depth: fusion passes on 2
    for a in data["answers"]:
        start, end = a["span"]
        assert a["passage"][start:end] == a["answer"] and a["doc_id"] and a["passage_id"]
    assert {"analyzer", "bm25", "dense", "fusion", "reader"} <= set(data["timings_ms"])
    assert data["total_ms"] > 0 and "Tesla" in data["entities"]


def test_search_and_documents(server: Server) -> None:
    r = httpx.post(
        f"{server.url}/v1/search", json={"query": "Warsaw capital", "pipeline": "bm25", "top_k": 2}
    )
    assert r.status_code == 200, r.text
    passages = r.json()["passages"]
    assert len(passages) == 2 and passages[0]["title"] == "Warsaw"
    doc_id = passages[0]["doc_id"]  # a SQuAD paragraph is a document
    doc = httpx.get(f"{server.url}/v1/documents/{doc_id}").json()
    assert doc and all(p["doc_id"] == doc_id for p in doc)
    one = httpx.get(f"{server.url}/v1/documents/{doc[0]['passage_id']}").json()
    assert [p["passage_id"] for p in one] == [doc[0]["passage_id"]]
    missing = httpx.get(f"{server.url}/v1/documents/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    nested = httpx.get(f"{server.url}/v1/documents/docs/a.md")  # ids of directory collections have slashes
    assert nested.status_code == 404 and "'docs/a.md'" in nested.json()["detail"]
    five = httpx.post(f"{server.url}/v1/search", json={"query": "Warsaw capital", "top_k": 5}).json()
    assert five["pipeline"] == "qa" and len(five["passages"]) == 5  # the graph reads 3; search asked 5


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"question": ""}, 422, "at least 1 character"),
        ({"question": "x" * 1001}, 422, "at most 1000 characters"),
        ({"question": QUESTION, "top_k": 0}, 422, "greater than or equal to 1"),
        ({"question": QUESTION, "top_k": 21}, 422, "less than or equal to 20"),
        ({"question": QUESTION, "colour": "red"}, 422, "Extra inputs are not permitted"),
        ({"question": QUESTION, "pipeline": "nope"}, 404, "not served here"),
        ({"question": QUESTION, "params": {"ranker": {"top_k": 3}}}, 422, "has no component 'ranker'"),
        ({"question": QUESTION, "params": {"reader": {"stride": 3}}}, 422, "cannot be set per request"),
        ({"question": QUESTION, "params": {"reader": {"top_k": 500}}}, 422, "between 1 and 100"),
    ],
)
def test_bad_requests_get_a_clear_4xx(server: Server, body: dict[str, Any], status: int, says: str) -> None:
    r = ask(server, **body)
    assert r.status_code == status, r.text
    assert says in r.text


def test_follow_up_is_resolved_from_the_previous_turn(server: Server) -> None:
    previous = {"question": "Who invented the AC motor?", "answer": "Nikola Tesla", "entities": ["AC"]}
    data = ask(server, question="When did he die?", previous=previous).json()
    assert data["interpreted_as"] == "When did Nikola Tesla die?"
    data = ask(server, question="When did Tesla die?", previous=previous).json()
    assert data["interpreted_as"] is None  # names its own entity: not a follow-up


def test_feedback_is_stored_and_exported_as_a_squad_set(server: Server, tmp_path: Path) -> None:
    from odqa.eval.datasets import load_dataset

    answer = ask(server, question=QUESTION).json()["answers"][0]
    vote = {k: answer[k] for k in ("answer", "passage", "span", "doc_id", "passage_id", "title")}
    r = httpx.post(f"{server.url}/v1/feedback", json={"question": QUESTION, "vote": "up", **vote})
    assert r.status_code == 201, r.text
    bad = httpx.post(
        f"{server.url}/v1/feedback", json={"question": "q", "vote": "up", **vote, "span": [0, 1]}
    )
    assert bad.status_code == 422 and "is not the answer" in bad.text
    lines = server.feedback.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["answer"] == answer["answer"]
    export = httpx.get(f"{server.url}/v1/feedback/export").json()
    path = tmp_path / "feedback.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    dataset = load_dataset(path)  # what `odqa eval --dataset feedback.json` reads
    assert [q.text for q in dataset.queries] == [QUESTION]
    assert list(dataset.answers.values()) == [[answer["answer"]]]


def test_openai_client_gets_an_answer_with_sources_streamed_and_not(server: Server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["qa", "bm25"]
    reply = client.chat.completions.create(model="qa", messages=[{"role": "user", "content": QUESTION}])
    text = reply.choices[0].message.content or ""
    best = ask(server, question=QUESTION).json()["answers"][0]
    assert text.startswith(f"**{best['answer']}**") and "Source:" in text
    stream = client.chat.completions.create(
        model="qa", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert streamed == text
    follow = client.chat.completions.create(
        model="qa",
        messages=[
            {"role": "user", "content": "Who invented the AC motor?"},
            {"role": "assistant", "content": "**Nikola Tesla**\n\nSource: ..."},
            {"role": "user", "content": "When did he die?"},
        ],
    )
    assert "interpreted as: When did Nikola Tesla die?" in (follow.choices[0].message.content or "")
    from openai import NotFoundError

    with pytest.raises(NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": QUESTION}])


@pytest.fixture(scope="module")
def keyed(serve_env: PipelineEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from odqa.serve.app import create_app

    app = create_app(
        serve_env,
        pipelines=["bm25"],
        api_key="s3cret",
        feedback_path=tmp_path_factory.mktemp("f") / "f.jsonl",
    )
    yield from run_server(app)


def test_api_key_guards_the_v1_routes(keyed: str) -> None:
    body = {"query": "Warsaw", "top_k": 1}
    assert httpx.post(f"{keyed}/v1/search", json=body).status_code == 401
    wrong = httpx.post(f"{keyed}/v1/search", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "API key" in wrong.text
    ok = httpx.post(f"{keyed}/v1/search", json=body, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert httpx.post(f"{keyed}/v1/search", json=body, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert httpx.get(f"{keyed}/health").status_code == 200  # liveness stays open
    odd = httpx.post(f"{keyed}/v1/search", json=body, headers={"X-API-Key": "s3crét".encode()})
    assert odd.status_code == 401  # not a 500
    lower = httpx.post(f"{keyed}/v1/search", json=body, headers={"Authorization": "bearer s3cret"})
    assert lower.status_code == 200


@pytest.fixture(scope="module")
def single(serve_env: PipelineEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from odqa.serve.app import create_app

    app = create_app(
        serve_env,
        pipelines=["qa"],
        workers=1,
        queue=0,
        feedback_path=tmp_path_factory.mktemp("f") / "f.jsonl",
    )
    yield from run_server(app)


def test_a_burst_beyond_the_pool_gets_503_with_retry_after_then_service_resumes(single: str) -> None:
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def one() -> None:
        r = httpx.post(f"{single}/v1/ask", json={"question": QUESTION, "depth": 3}, timeout=120)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert set(codes) == {200, 503} and codes.count(200) >= 1, codes
    refused = [r for r in results if r.status_code == 503]
    assert all(int(r.headers["Retry-After"]) >= 1 and "busy" in r.text for r in refused)
    assert httpx.post(f"{single}/v1/ask", json={"question": QUESTION}, timeout=120).status_code == 200


def test_set_overrides_reach_each_served_graph_that_has_the_component(serve_env: PipelineEnv) -> None:
    """`odqa serve --set`: applied to every served graph with that component, refused when none has it."""
    from odqa.serve.engine import Engine

    engine = Engine(serve_env, ["qa", "bm25"], overrides={"reader": {"top_k": 2}, "bm25": {"top_k": 7}})
    assert engine.runner("bm25").pipeline.get_component("bm25").top_k == 7  # bm25 has no reader
    qa = engine.runner("qa").pipeline
    assert qa.get_component("reader").top_k == 2 and qa.get_component("bm25").top_k == 7
    with pytest.raises(ValueError, match=r"reader.*no served graph"):
        Engine(serve_env, ["bm25"], overrides={"reader": {"top_k": 2}})
