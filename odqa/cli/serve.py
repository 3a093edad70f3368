"""``odqa serve``: the REST API and the chat page (FastAPI under uvicorn) over the index."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from odqa.cli.common import EXIT_INDEX, SetOption, console, errors, fail, pipeline_env, quiet_libraries


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    pipeline: Annotated[
        list[str] | None,
        typer.Option(help="Graph to serve (repeat; the first is the default). Default: qa."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Questions answered at the same time (CPU-bound).")] = 1,
    queue: Annotated[int, typer.Option(help="Requests that may wait for a worker; more get 503.")] = 4,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Allow browser calls from this origin (repeat; default: none).")
    ] = None,
    feedback: Annotated[
        Path | None, typer.Option(help="Feedback file (JSONL; default: feedback.jsonl beside the index).")
    ] = None,
    sets: SetOption = None,
) -> None:
    """Serve the REST API (/docs), the OpenAI-compatible chat endpoint and the chat page (/).

    With ODQA_API_KEY set, every /v1 route wants `Authorization: Bearer <key>`."""
    import uvicorn

    from odqa.pipelines.loader import find_pipeline, parse_overrides
    from odqa.serve.app import create_app

    quiet_libraries()
    env = pipeline_env()
    if not env.has_index:
        fail(
            f"no index at {env.index_dir}: run `odqa index COLLECTION` first (or pass --index-dir)",
            EXIT_INDEX,
        )
    names = list(pipeline or ["qa"])
    with errors():
        for name in names:
            find_pipeline(name)
        overrides = parse_overrides(sets or [])
        app = create_app(
            env,
            pipelines=names,
            workers=workers,
            queue=queue,
            api_key=os.environ.get("ODQA_API_KEY") or None,
            cors_origins=cors_origin,
            feedback_path=feedback,
            overrides=overrides,
        )
    console.print(f"odqa serving {', '.join(names)} on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
