"""The ``odqa`` Typer app: the main callback builds the settings, then each command group's module
contributes its commands (query: index/ask/search/pipelines; train; models; tune; evaluation; es; demo)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from odqa.cli import demo, evaluation, query, serve
from odqa.cli.common import EXIT_ERROR, fail, state
from odqa.cli.es import es_app
from odqa.cli.models import models_app
from odqa.cli.train import train_app
from odqa.cli.tune import tune_app
from odqa.config import load_settings

# Idle OpenMP threads spin by default; on a shared 2-core machine that slows torch 1.4-8x.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Open-domain extractive question answering."
)


@app.callback()
def _main(
    config: Annotated[Path | None, typer.Option(help="YAML settings file (also ODQA_CONFIG).")] = None,
    index_dir: Annotated[Path | None, typer.Option(help="Index directory (ODQA_INDEX_DIR).")] = None,
    models_dir: Annotated[
        Path | None, typer.Option(help="Trained models directory (ODQA_MODELS_DIR).")
    ] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda (ODQA_DEVICE).")] = None,
    backend: Annotated[
        str | None,
        typer.Option(help="BM25 side: embedded | elasticsearch (ODQA_BACKEND, ELASTICSEARCH_URL)."),
    ] = None,
    trust_pipeline: Annotated[
        bool | None,
        typer.Option(
            "--trust-pipeline",
            help="Run a graph file that names classes outside odqa/Haystack or keeps stores outside "
            "the index directory: a pipeline file is code (ODQA_TRUST_PIPELINES).",
        ),
    ] = None,
) -> None:
    try:
        state.settings = load_settings(
            config,
            index_dir=index_dir,
            models_dir=models_dir,
            device=device,
            backend=backend,
            trust_pipelines=trust_pipeline,
        )
    except (OSError, ValueError) as e:
        fail(str(e), EXIT_ERROR)


app.command()(query.index)
app.command()(query.delete)
app.command()(query.ask)
app.command()(query.search)
app.command()(query.pipelines)
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")
app.add_typer(tune_app, name="tune")
app.command()(evaluation.evaluate)
app.command("eval")(evaluation.eval_pipeline)
app.command()(evaluation.compare)
app.command()(evaluation.report)
app.add_typer(es_app, name="es")
app.command()(demo.demo)
app.command()(serve.serve)


def main() -> None:
    app()
