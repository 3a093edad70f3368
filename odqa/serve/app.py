"""odqa's REST API and chat page (FastAPI): ``create_app(env, ...)``; ``odqa serve`` runs it with uvicorn.

Endpoints (OpenAPI at ``/docs``):

* ``GET /health`` -- the process is alive; ``GET /ready`` -- models loaded and index open (503 until
  then, with the reason);
* ``POST /v1/ask`` -- answers (span, score, character offsets, passage, document) and per-stage
  timings; ``POST /v1/search`` -- ranked passages; ``GET /v1/pipelines``;
  ``GET /v1/documents/{id}`` -- a document's passages;
* ``POST /v1/chat/completions`` (OpenAI-compatible, streamed with SSE or not) and ``GET /v1/models``,
  so OpenAI clients and Open WebUI can use odqa as a model;
* ``POST /v1/feedback``, ``GET /v1/feedback/export`` -- thumbs up/down, exported as SQuAD JSON;
* ``GET /`` -- the chat page (static files, no CDN).

CPU-bound runs go to the engine's bounded pool; a full pool answers 503 with ``Retry-After``. With
an API key (``ODQA_API_KEY``) every ``/v1`` route wants ``Authorization: Bearer <key>`` (or
``X-API-Key``). CORS is off unless origins are given.

Usage::

    app = create_app(PipelineEnv.from_settings(load_settings()), pipelines=["qa", "qa_rerank"])
    uvicorn.run(app, host="127.0.0.1", port=8000)
"""

# no `from __future__ import annotations`: FastAPI reads the route signatures (and the local
# `Ready` dependency alias) at run time
import asyncio
import json
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

from odqa.pipelines.env import PipelineEnv
from odqa.pipelines.runner import RunResult, passage_dict
from odqa.serve.engine import BadParams, Busy, Engine, NotReady, UnknownPipeline
from odqa.serve.feedback import FeedbackError, FeedbackStore
from odqa.serve.followup import resolve_followup
from odqa.serve.schemas import (
    AnswerOut,
    AskRequest,
    AskResponse,
    ChatRequest,
    FeedbackIn,
    PassageOut,
    PipelineOut,
    PreviousTurn,
    SearchRequest,
    SearchResponse,
)

log = logging.getLogger("odqa.serve")
STATIC = Path(str(resources.files("odqa.serve") / "static"))


def _entities(result: RunResult) -> list[str]:
    for _, sockets in result.stages:
        ents = sockets.get("entities")
        if ents:
            return [getattr(e, "text", str(e)) for e in ents]
    return []


def _timings(result: RunResult) -> dict[str, float]:
    return {k: round(v * 1000, 1) for k, v in result.timings.items()}


def _run_params(
    engine: Engine, pipeline: str, top_k: int, depth: int | None, params: dict[str, dict[str, int]]
) -> dict[str, dict[str, Any]]:
    merged = engine.check_params(pipeline, params)
    order = engine.runner(pipeline).order  # opened by the caller (Engine.open)
    if depth is not None and "fusion" in order:
        merged.setdefault("fusion", {}).setdefault("top_k", depth)
    if "reader" in order:
        merged.setdefault("reader", {}).setdefault("top_k", top_k)
    return merged


def create_app(
    env: PipelineEnv,
    *,
    pipelines: list[str] | None = None,
    workers: int = 1,
    queue: int = 4,
    api_key: str | None = None,
    cors_origins: list[str] | None = None,
    feedback_path: Path | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> FastAPI:
    """The API over ``env``'s index and models, serving ``pipelines`` (default ``["qa"]``), with
    ``overrides`` (``component -> {parameter: value}``) applied to each graph that has the component."""
    engine = Engine(env, list(pipelines or ["qa"]), workers=workers, queue=queue, overrides=overrides or {})
    feedback = FeedbackStore(feedback_path or env.index_dir.parent / "feedback.jsonl")
    state: dict[str, Any] = {"error": None}

    def start() -> None:
        t0 = time.perf_counter()
        try:
            engine.start()
            log.info("serving %s (loaded in %.1fs)", ", ".join(engine.pipelines), time.perf_counter() - t0)
        except Exception as e:  # the server still answers /health and says why /ready is not
            state["error"] = f"{type(e).__name__}: {e}"
            log.error("not ready: %s", state["error"])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # load in the background: /health answers at once, /ready says "loading" until done
        loading = asyncio.create_task(asyncio.to_thread(start))
        yield
        await loading
        engine.stop()

    app = FastAPI(
        title="odqa",
        summary="Open-domain extractive question answering: answers with their spans and sources.",
        version="1",
        lifespan=lifespan,
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )

    def authorized(
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> None:
        if api_key is None:
            return
        scheme, _, token = (authorization or "").partition(" ")
        given = x_api_key or (token.strip() if scheme.lower() == "bearer" else None)
        if given is None or not secrets.compare_digest(given.encode("utf-8", "replace"), api_key.encode()):
            raise HTTPException(401, "missing or wrong API key (Authorization: Bearer <key> or X-API-Key)")

    def ready_engine() -> Engine:
        if not engine.ready:
            raise HTTPException(
                503, f"not ready: {state['error'] or 'loading'}", headers={"Retry-After": "5"}
            )
        return engine

    Auth = Depends(authorized)
    Ready = Annotated[Engine, Depends(ready_engine)]

    @app.exception_handler(Busy)
    async def busy(_: Request, e: Busy) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=503, headers={"Retry-After": str(e.retry_after)})

    @app.exception_handler(UnknownPipeline)
    async def unknown(_: Request, e: UnknownPipeline) -> JSONResponse:
        return JSONResponse({"detail": e.args[0]}, status_code=404)

    @app.exception_handler(NotReady)
    async def not_ready(_: Request, e: NotReady) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(BadParams)
    async def bad_params(_: Request, e: BadParams) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=422)

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/ready", tags=["service"])
    def ready() -> JSONResponse:
        """The default graph's models are loaded and its index is open."""
        if engine.ready:
            return JSONResponse(
                {"ready": True, "pipelines": engine.pipelines, "index_dir": str(env.index_dir)}
            )
        return JSONResponse(
            {"ready": False, "reason": state["error"] or "loading"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.get("/v1/pipelines", dependencies=[Auth], tags=["qa"])
    def list_pipelines() -> list[PipelineOut]:
        """The served graphs (the first is the default) and the run-time parameters each accepts."""
        return [PipelineOut(**engine.describe(name)) for name in engine.pipelines]

    @app.post("/v1/ask", dependencies=[Auth], tags=["qa"])
    async def ask(body: AskRequest, eng: Ready) -> AskResponse:
        """Answer a question: extractive answers with their spans, passages and documents."""
        pipeline = body.pipeline or eng.default
        await eng.open(pipeline)
        interpreted = resolve_followup(body.question, body.previous)
        question = interpreted or body.question
        params = _run_params(eng, pipeline, body.top_k, body.depth, body.params)
        result = await eng.run(pipeline, question, params)
        return AskResponse(
            question=body.question,
            interpreted_as=interpreted,
            pipeline=pipeline,
            answers=[AnswerOut(**a) for a in result.answer_dicts()[: body.top_k]],
            passages=[PassageOut(**p) for p in result.passage_dicts()],
            entities=_entities(result),
            timings_ms=_timings(result),
            total_ms=round(result.total_s * 1000, 1),
        )

    @app.post("/v1/search", dependencies=[Auth], tags=["qa"])
    async def search(body: SearchRequest, eng: Ready) -> SearchResponse:
        """The graph's final ranked passages for a query."""
        pipeline = body.pipeline or eng.default
        runner = await eng.open(pipeline)
        params = eng.check_params(pipeline, body.params)
        # the last stage that ranks passages returns top_k of them (a reader, if any, is skipped)
        last = [c for c in runner.order if c in ("bm25", "dense", "fusion", "entity_filter", "ranker")]
        if last:
            params.setdefault(last[-1], {}).setdefault("top_k", body.top_k)
        result = await eng.run(pipeline, body.query, params)
        return SearchResponse(
            query=body.query,
            pipeline=pipeline,
            passages=[PassageOut(**p) for p in result.passage_dicts()[: body.top_k]],
            timings_ms=_timings(result),
            total_ms=round(result.total_s * 1000, 1),
        )

    @app.get("/v1/documents/{doc_id:path}", dependencies=[Auth], tags=["qa"])
    async def document(doc_id: str, eng: Ready) -> list[PassageOut]:
        """The passages of a document (or the passage with this id), in document order."""
        found = await eng.call(eng.documents, eng.default, doc_id)
        if not found:
            raise HTTPException(404, f"no document or passage {doc_id!r} in the index")
        return [PassageOut(**passage_dict(d)) for d in found]

    @app.post("/v1/feedback", dependencies=[Auth], tags=["feedback"], status_code=201)
    def add_feedback(body: FeedbackIn) -> dict[str, Any]:
        """Store a thumbs up/down on an answer (thumbs-up answers become gold answers in the export)."""
        try:
            return feedback.add(body)
        except FeedbackError as e:
            raise HTTPException(422, str(e)) from e

    @app.get("/v1/feedback/export", dependencies=[Auth], tags=["feedback"])
    def export_feedback() -> dict[str, Any]:
        """The up-voted answers as a SQuAD v1.1 file: ``odqa eval --dataset`` scores a graph on it."""
        return feedback.export()

    @app.get("/v1/models", dependencies=[Auth], tags=["openai"])
    def models() -> dict[str, Any]:
        """OpenAI-style model list: one model per served graph."""
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "owned_by": "odqa"} for n in engine.pipelines],
        }

    @app.post("/v1/chat/completions", dependencies=[Auth], tags=["openai"], response_model=None)
    async def chat(body: ChatRequest, eng: Ready) -> JSONResponse | StreamingResponse:
        """OpenAI-compatible chat: the last user message is the question; the reply is the answer
        with its sources (``stream: true`` sends it as server-sent events)."""
        question, previous = _chat_turns(body)
        if not question or len(question) > 1000:
            return _openai_error(422, "the last user message must hold a question of 1 to 1000 characters")
        if body.model not in (*eng.pipelines, "odqa"):
            return _openai_error(
                404,
                f"model {body.model!r} does not exist; models: {', '.join(eng.pipelines)}",
                "model_not_found",
            )
        pipeline = body.model if body.model in eng.pipelines else eng.default
        await eng.open(pipeline)
        interpreted = resolve_followup(question, previous)
        result = await eng.run(pipeline, interpreted or question, _run_params(eng, pipeline, 3, None, {}))
        text = _reply(result, interpreted)
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        sources = result.answer_dicts()[:3]
        if not body.stream:
            return JSONResponse(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": pipeline,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    "odqa": {"answers": sources, "interpreted_as": interpreted},
                }
            )
        return StreamingResponse(
            _sse(cid, created, pipeline, text),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.engine = engine
    app.state.feedback = feedback
    return app


def _openai_error(status: int, message: str, code: str | None = None) -> JSONResponse:
    """An error in OpenAI's shape (``{"error": {"message", "type", "code"}}``)."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text").strip()
    return (content or "").strip()


def _chat_turns(body: ChatRequest) -> tuple[str, PreviousTurn | None]:
    """The question (last user message) and the turn before it, for follow-ups."""
    users = [i for i, m in enumerate(body.messages) if m.role == "user"]
    if not users:
        return "", None
    question = _text(body.messages[users[-1]].content)
    if len(users) < 2:
        return question, None
    prev_q = _text(body.messages[users[-2]].content)[:1000]
    replies = [m for m in body.messages[users[-2] + 1 : users[-1]] if m.role == "assistant"]
    answer = (
        _text(replies[0].content).splitlines()[0].strip("* ")
        if replies and _text(replies[0].content)
        else None
    )
    return question, PreviousTurn(question=prev_q, answer=answer[:1000] if answer else None)


def _reply(result: RunResult, interpreted: str | None) -> str:
    """The chat reply: the best answer in bold, its source with the sentence around it, others."""
    answers = result.answer_dicts()
    if not answers:
        passages = result.passage_dicts()[:3]
        if not passages:
            return "I found nothing about that in the collection."
        lines = ["No answer span found; the most relevant passages:"]
        lines += [f"- {p['title'] or p['doc_id']}: {(p['passage'] or '')[:200]}…" for p in passages]
        return "\n".join(lines)
    best = answers[0]
    start, end = best["span"]
    passage = best["passage"] or ""
    context = passage
    if start is not None and end is not None:
        context = (
            f"…{passage[max(0, start - 120) : start]}**{passage[start:end]}**{passage[end : end + 120]}…"
        )
    lines = [f"**{best['answer']}**", ""]
    if interpreted:
        lines += [f"_(interpreted as: {interpreted})_", ""]
    lines += [
        f"Source: {best['title'] or best['doc_id']} (document {best['doc_id']}, score {best['score']:.3f})",
        f"> {context}",
    ]
    others = [a["answer"] for a in answers[1:3]]
    if others:
        lines += ["", "Other candidates: " + "; ".join(others)]
    return "\n".join(lines)


def _sse(cid: str, created: int, model: str, text: str) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        payload = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    words = text.split(" ")
    for i in range(0, len(words), 8):
        piece = " ".join(words[i : i + 8]) + (" " if i + 8 < len(words) else "")
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"
