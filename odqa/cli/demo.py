"""``odqa demo``: the main job -- train the models the graph needs and lacks (quick recipe, once),
index the demo collection, answer the demo questions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from odqa.cli.common import EXIT_ERROR, console, errors, fail, settings
from odqa.cli.query import ask, index

DEMO_QUESTIONS = (
    "Which NFL team represented the AFC at Super Bowl 50?",
    "What is the largest city in Poland?",
    "In what year did Tesla die?",
    "What is the atomic number of oxygen?",
)
#: what the first run trains for a graph that needs it, in this order (the re-ranker learns from the
#: reader): the recipe and roughly how long it takes
DEMO_TRAINING = {
    "reader": ("quick", "a 12-minute budget on any machine"),
    "reranker": ("candidates", "~35 minutes: a SQuAD train sample indexed once, then a 30-minute budget"),
}


def demo(
    collection: Annotated[
        Path | None, typer.Option(help="Default: SQuAD dev part A under the data dir.")
    ] = None,
    questions: Annotated[list[str] | None, typer.Option("--question", "-q", help="Questions to ask.")] = None,
    pipeline: Annotated[str, typer.Option(help="The query graph to answer with.")] = "qa",
) -> None:
    """The main job: train the models the graph needs and lacks (quick recipe, once), index, answer."""
    from odqa.models import registry_from_settings
    from odqa.pipelines.loader import graph_roles

    s = settings()
    collection = collection or s.data_dir / "squad" / "dev-v1.1-part-a.json"
    if not collection.exists():
        fail(f"demo collection not found: {collection} (set ODQA_DATA_DIR or pass --collection)", EXIT_ERROR)
    with errors():
        roles = graph_roles(pipeline)
    reg = registry_from_settings(s)
    missing = [role for role in DEMO_TRAINING if role in roles and not reg.resolve(role).available]
    manifest = s.index_dir / "manifest.json"
    indexed = json.loads(manifest.read_text())["collection"] if manifest.exists() else None
    reindex = indexed != str(collection.resolve())
    steps = [*(f"train the {role}" for role in missing), *(["index"] if reindex else []), "answer"]
    step = 0

    def announce(what: str) -> None:
        nonlocal step
        step += 1
        console.print(f"[bold]\\[{step}/{len(steps)}][/] {what}", highlight=False)

    for role in missing:
        recipe, takes = DEMO_TRAINING[role]
        announce(
            f"{role} model missing -> `odqa train {role} --recipe {recipe}` "
            f"({takes}; runs once, the model goes to {s.resolved_models_dir / role})"
        )
        cmd = [sys.executable, "-m", "odqa.cli", "--models-dir", str(s.resolved_models_dir)]
        cmd += ["--device", s.device, "train", role, "--recipe", recipe]
        if subprocess.call(cmd) != 0:
            fail(f"training the {role} failed", EXIT_ERROR)
    if reindex:
        announce(f"index {collection} -> {s.index_dir} (passages into BM25 and FAISS)")
        index(
            collection,
            fmt="auto",
            pipeline="indexing",
            split=None,
            length=None,
            overlap=None,
            faiss_index=None,
            append=False,
            strict=False,
        )
    announce(f"answer with the {pipeline} graph")
    ask(list(questions or DEMO_QUESTIONS), pipeline=pipeline, top_k=3, as_json=False, timings=True)
