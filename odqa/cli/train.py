"""``odqa train reader|reranker|ner``: fine-tune odqa's own models with a named recipe, print a short
summary and the learning curve."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from odqa.cli.common import EXIT_ERROR, console, errors, fail, quiet_libraries, settings

train_app = typer.Typer(no_args_is_help=True, help="Train odqa's own models (reader, re-ranker, NER).")


def _with_tcmalloc() -> None:
    """Re-exec once with tcmalloc preloaded when it is installed (30-40% faster CPU training)."""
    if os.environ.get("ODQA_NO_TCMALLOC") or "tcmalloc" in os.environ.get("LD_PRELOAD", ""):
        return
    for lib in (
        "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
    ):
        if Path(lib).exists():
            env = dict(os.environ, LD_PRELOAD=f"{lib} {os.environ.get('LD_PRELOAD', '')}".strip())
            os.execvpe(sys.executable, [sys.executable, "-m", "odqa.cli", *sys.argv[1:]], env)


# options every `odqa train` command has (they map onto odqa.train.common.TrainConfigBase)
OutputDirOpt = Annotated[
    str | None,
    typer.Option(help="Where to write the model (default: <models dir>/<role>, where the registry looks)."),
]
BaseModelOpt = Annotated[
    str | None,
    typer.Option(
        help="Start from these weights: a path, a hub id or role:NAME (a registry role, "
        "e.g. role:reader); default all-MiniLM-L6-v2."
    ),
]
EpochsOpt = Annotated[
    float | None, typer.Option(help="Passes over the training data (default: the recipe's).")
]
MaxStepsOpt = Annotated[
    int | None, typer.Option(help="Stop after this many optimiser steps (overrides epochs).")
]
LoraOpt = Annotated[bool | None, typer.Option(help="Train LoRA adapters (peft) instead of all weights.")]
ResumeOpt = Annotated[bool | None, typer.Option(help="Continue from the latest checkpoint.")]
MinutesOpt = Annotated[
    float | None,
    typer.Option(help="Train for this wall-clock budget (schedule sized from measured speed; 0 = off)."),
]
PrecisionOpt = Annotated[
    str | None, typer.Option(help="auto (bf16 on CPUs where it measures faster) | fp32 | bf16.")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", help="Any config field: name=value (YAML value; repeat), e.g. lr=3e-4."),
]


def _parse_params(params: list[str] | None) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for item in params or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--param {item!r}: expected name=value", EXIT_ERROR)
        out[name.strip()] = yaml.safe_load(value)
    return out


#: the options every `odqa train` command has, passed on as config fields (``param``: ``--param``)
LOOP_OPTIONS = (
    "output_dir",
    "base_model",
    "epochs",
    "max_steps",
    "lora",
    "resume",
    "minutes",
    "precision",
    "param",
)


def _loop_options(values: dict[str, Any]) -> dict[str, Any]:
    """The shared options out of a command's arguments (its ``locals()``)."""
    return {name: values[name] for name in LOOP_OPTIONS}


def _train_common(role: str, recipe: str, overrides: dict[str, Any], **loop: Any) -> None:
    """Train ``role`` with recipe ``recipe``, its own ``overrides`` and the shared ``loop`` options."""
    _with_tcmalloc()
    quiet_libraries()
    import importlib

    mod = importlib.import_module(f"odqa.train.{role}")
    params = _parse_params(loop.pop("param", None))
    overrides = {k: v for k, v in {**overrides, **loop, **params}.items() if v is not None}
    overrides.setdefault("output_dir", str(settings().resolved_models_dir / role))
    overrides.setdefault("device", settings().device)
    overrides["command"] = " ".join(["odqa", *sys.argv[1:]])
    try:  # unknown recipe (KeyError) or config field (TypeError): a usage problem, said plainly
        cfg = mod.config_from_recipe(recipe, **overrides)
    except (KeyError, TypeError) as e:
        fail(str(e.args[0]) if e.args else str(e), EXIT_ERROR)
    with errors():  # bad data files, unknown datasets; anything else is a bug and keeps its traceback
        result = getattr(mod, f"train_{role}")(cfg)
    _print_training(role, result)


def _print_training(role: str, result: Any) -> None:
    """A trained model in a few lines: where, how long and fast, dev scores, the learning curve."""
    extra = result.extra
    ref = extra.get("reference_speed") or {}
    console.print(f"[bold]{role} trained[/] -> {result.output_dir}  (card: README.md, odqa_manifest.json)")
    console.print(
        f"  {result.steps} steps in {result.train_seconds / 60:.1f} min, "
        f"{result.examples_per_s:.1f} {result.unit}/s, {result.device} {extra.get('precision', '')}"
        + (f"; reference speed fp32 {ref['fp32']}, bf16 {ref.get('bf16')} windows/s" if "fp32" in ref else "")
    )
    if extra.get("dev_before"):
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in extra["dev_before"].items()}
        console.print(f"  dev before training: {shown}", highlight=False)
    if result.dev_metrics:
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in result.dev_metrics.items()}
        console.print(f"  dev: {shown}", highlight=False)
    curve = extra.get("learning_curve") or []
    if curve:
        metrics = [k for k in curve[0] if k not in ("step", "items", "minutes", "examples")]
        table = Table("step", "items", "minutes", *metrics, title="validation (learning curve)")
        for point in curve:
            table.add_row(
                str(point["step"]),
                str(point["items"]),
                f"{point['minutes']:.1f}",
                *(f"{point[m]:.1f}" if isinstance(point[m], float) else str(point[m]) for m in metrics),
            )
        console.print(table)
        if extra.get("best_step") is not None:
            console.print(f"  kept the weights of step {extra['best_step']}")


@train_app.command("reader")
def train_reader(
    recipe: Annotated[
        str,
        typer.Option(
            help="quick (12-minute budget, any machine) | base (~1.7 h on 2 slow CPU cores; resumable) "
            "| full (GPU advised)."
        ),
    ] = "quick",
    train_file: Annotated[str | None, typer.Option(help="SQuAD-format training JSON.")] = None,
    dev_file: Annotated[str | None, typer.Option(help="SQuAD-format dev JSON.")] = None,
    output_dir: OutputDirOpt = None,
    max_examples: Annotated[
        int | None, typer.Option(help="Use at most this many training questions.")
    ] = None,
    base_model: BaseModelOpt = None,
    epochs: EpochsOpt = None,
    max_steps: MaxStepsOpt = None,
    lora: LoraOpt = None,
    resume: ResumeOpt = None,
    minutes: MinutesOpt = None,
    precision: PrecisionOpt = None,
    param: ParamOpt = None,
) -> None:
    """Fine-tune the extractive reader from MiniLM on SQuAD-format data."""
    _train_common(
        "reader",
        recipe,
        dict(
            train_file=train_file,
            dev_file=dev_file,
            max_examples=max_examples,
        ),
        **_loop_options(locals()),
    )


@train_app.command("reranker")
def train_reranker(
    recipe: Annotated[
        str,
        typer.Option(
            help="quick (minutes, CPU) | base (~1 h, CPU) | candidates (30 min, CPU: from the trained "
            "reader on the hybrid's own candidates; what qa_rerank wants) | beir (in-domain: the "
            "stock re-ranker on a BEIR collection's train-half qrels; for hybrid_rerank) | full "
            "(hours; resumable)."
        ),
    ] = "quick",
    beir_dir: Annotated[
        str | None, typer.Option(help="BEIR collection with qrels for the beir source (default: SciFact).")
    ] = None,
    output_dir: OutputDirOpt = None,
    max_examples: Annotated[int | None, typer.Option(help="Use at most this many training queries.")] = None,
    base_model: BaseModelOpt = None,
    epochs: EpochsOpt = None,
    max_steps: MaxStepsOpt = None,
    lora: LoraOpt = None,
    resume: ResumeOpt = None,
    minutes: MinutesOpt = None,
    precision: PrecisionOpt = None,
    param: ParamOpt = None,
) -> None:
    """Fine-tune the cross-encoder re-ranker (SQuAD, the hybrid's own candidates, MS MARCO, BEIR)."""
    _train_common(
        "reranker",
        recipe,
        dict(squad_questions=max_examples, beir_dir=beir_dir),
        **_loop_options(locals()),
    )


@train_app.command("retriever")
def train_retriever(
    recipe: Annotated[
        str, typer.Option(help="quick (1 epoch, CPU) | full (3 epochs, cached MNRL; GPU advised).")
    ] = "quick",
    beir_dir: Annotated[
        str | None, typer.Option(help="BEIR collection with qrels (default: SciFact).")
    ] = None,
    split: Annotated[
        str, typer.Option(help="The qrels split whose queries are split into train and dev.")
    ] = "train",
    output_dir: OutputDirOpt = None,
    max_examples: Annotated[int | None, typer.Option(help="Use at most this many training queries.")] = None,
    base_model: BaseModelOpt = None,
    epochs: EpochsOpt = None,
    max_steps: MaxStepsOpt = None,
    param: ParamOpt = None,
) -> None:
    """Fine-tune the dense retriever (DPR-style: in-batch + mined hard negatives) on judged queries."""
    _train_common(
        "retriever",
        recipe,
        dict(beir_dir=beir_dir, beir_split=split, max_queries=max_examples, output_dir=output_dir),
        base_model=base_model,
        epochs=epochs,
        max_steps=max_steps,
        param=param,
    )


@train_app.command("ner")
def train_ner(
    recipe: Annotated[
        str, typer.Option(help="quick (~10 min, CPU) | full (3 epochs; checkpoints, resumable).")
    ] = "quick",
    dataset: Annotated[
        list[str] | None,
        typer.Option(help="conll2003 and/or wnut17 (repeat the option; WNUT-17 maps onto CoNLL types)."),
    ] = None,
    train_file: Annotated[str | None, typer.Option(help="CoNLL/IOB2 training file (first dataset).")] = None,
    dev_file: Annotated[str | None, typer.Option(help="CoNLL/IOB2 dev file ('' = none).")] = None,
    test_file: Annotated[str | None, typer.Option(help="CoNLL/IOB2 test file ('' = none).")] = None,
    output_dir: OutputDirOpt = None,
    max_examples: Annotated[
        int | None, typer.Option(help="Use at most this many training sentences.")
    ] = None,
    base_model: BaseModelOpt = None,
    epochs: EpochsOpt = None,
    max_steps: MaxStepsOpt = None,
    lora: LoraOpt = None,
    resume: ResumeOpt = None,
    minutes: MinutesOpt = None,
    precision: PrecisionOpt = None,
    param: ParamOpt = None,
) -> None:
    """Fine-tune a BIO named-entity tagger from MiniLM (CoNLL-2003, WNUT-17); seqeval P/R/F1 on test."""
    _train_common(
        "ner",
        recipe,
        dict(
            datasets=dataset or None,
            train_file=train_file,
            dev_file=dev_file,
            test_file=test_file,
            max_sentences=max_examples,
        ),
        **_loop_options(locals()),
    )
