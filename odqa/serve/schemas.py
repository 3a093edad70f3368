"""Request and response bodies of odqa's REST API (pydantic; unknown fields are refused with 422)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: run-time parameters a request may set, per component (the rest of a graph is fixed at start-up)
ALLOWED_PARAMS: dict[str, tuple[str, ...]] = {
    "bm25": ("top_k",),
    "dense": ("top_k",),
    "fusion": ("top_k",),
    "entity_filter": ("top_k",),
    "ranker": ("top_k",),
    "reader": ("top_k",),
}
MAX_QUESTION_CHARS = 1000
#: the most passages a request may send on from a stage (``depth``, ``params`` top_k)
MAX_DEPTH = 100
Entity = Annotated[str, Field(max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreviousTurn(Strict):
    """The turn a follow-up question refers to (what the chat page sends back)."""

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str | None = Field(default=None, max_length=MAX_QUESTION_CHARS)
    entities: list[Entity] = Field(default_factory=list, max_length=50)


class AskRequest(Strict):
    """``POST /v1/ask``.

    ``depth`` is how many passages go on from fusion (the reader's passages in ``qa``, the
    re-ranker's candidates in ``qa_rerank``); ``params`` sets other run-time parameters, e.g.
    ``{"bm25": {"top_k": 100}}`` (allowed: :data:`ALLOWED_PARAMS`).
    """

    question: str = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, examples=["In what year did Tesla die?"]
    )
    pipeline: str | None = Field(
        default=None, description="a served graph (GET /v1/pipelines); default: the first"
    )
    top_k: int = Field(default=3, ge=1, le=20, description="answers (or passages) returned")
    depth: int | None = Field(default=None, ge=1, le=MAX_DEPTH, description="passages fusion passes on")
    params: dict[str, dict[str, int]] = Field(default_factory=dict)
    previous: PreviousTurn | None = Field(default=None, description="resolve he/she/it... from this turn")


class SearchRequest(Strict):
    """``POST /v1/search``: the graph's final ranked passages."""

    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    pipeline: str | None = None
    top_k: int = Field(default=10, ge=1, le=100)
    params: dict[str, dict[str, int]] = Field(default_factory=dict)


class AnswerOut(BaseModel):
    answer: str
    score: float
    doc_id: str | None
    passage_id: str | None
    title: str | None
    span: list[int | None] = Field(description="character offsets of the answer in passage")
    passage: str | None


class PassageOut(BaseModel):
    passage_id: str
    doc_id: str
    score: float | None
    title: str | None
    passage: str | None


class AskResponse(BaseModel):
    question: str
    interpreted_as: str | None = Field(description="the question after resolving a follow-up's pronoun")
    pipeline: str
    answers: list[AnswerOut]
    passages: list[PassageOut]
    entities: list[str] = Field(description="named entities of the question (when the graph analyses it)")
    timings_ms: dict[str, float]
    total_ms: float


class SearchResponse(BaseModel):
    query: str
    pipeline: str
    passages: list[PassageOut]
    timings_ms: dict[str, float]
    total_ms: float


class PipelineOut(BaseModel):
    name: str
    description: str
    loaded: bool
    components: list[str]
    params: dict[str, list[str]] = Field(description="run-time parameters requests may set")


class FeedbackIn(Strict):
    """A thumbs up or down on one answer; thumbs-up answers become gold answers in the export."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    passage: str = Field(min_length=1, max_length=20_000)
    span: list[int] = Field(min_length=2, max_length=2)
    vote: Literal["up", "down"]
    doc_id: str | None = None
    passage_id: str | None = None
    title: str | None = None
    pipeline: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send name, tool fields...

    role: str = Field(max_length=50)
    content: Annotated[str, Field(max_length=100_000)] | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The OpenAI chat-completions body (the fields odqa uses; others are accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    model: str = "odqa"
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
