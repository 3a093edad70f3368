"""A real odqa server (uvicorn on a free loopback port, in a thread) over a real index of the tiny
SQuAD set, with a tiny trained reader: the API tests talk to it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_support import Server, run_server

from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv
from odqa.pipelines.indexing import index_collection
from odqa.train.common import TrainResult


@pytest.fixture(scope="session")
def serve_env(
    tiny_squad: Path, trained_reader: TrainResult, tmp_path_factory: pytest.TempPathFactory
) -> PipelineEnv:
    work = tmp_path_factory.mktemp("serve")
    env = PipelineEnv(
        index_dir=work / "index",
        registry=ModelRegistry(work / "models", overrides={"reader": str(trained_reader.output_dir)}),
    )
    index_collection(tiny_squad, env=env, progress=False)
    return env


@pytest.fixture(scope="session")
def server(serve_env: PipelineEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from odqa.serve.app import create_app

    feedback = tmp_path_factory.mktemp("feedback") / "feedback.jsonl"
    app = create_app(serve_env, pipelines=["qa", "bm25"], workers=1, queue=8, feedback_path=feedback)
    for url in run_server(app):
        yield Server(url, app, feedback)
