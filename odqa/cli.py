"""The ``odqa`` command line: parses, calls, prints. Heavy imports happen inside commands."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from odqa.config import Settings, load_settings

# Idle OpenMP threads spin by default; on a shared 2-core machine that slows torch 1.4-8x.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Open-domain extractive question answering."
)
train_app = typer.Typer(no_args_is_help=True, help="Train odqa's own models (reader, re-ranker, NER).")
app.add_typer(train_app, name="train")
console = Console()
err = Console(stderr=True)

EXIT_ERROR, EXIT_MODEL, EXIT_INDEX = 1, 3, 4
DEMO_QUESTIONS = (
    "Which NFL team represented the AFC at Super Bowl 50?",
    "What is the largest city in Poland?",
    "In what year did Tesla die?",
    "What is the atomic number of oxygen?",
)


class _State:
    settings: Settings


state = _State()


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
) -> None:
    try:
        state.settings = load_settings(
            config, index_dir=index_dir, models_dir=models_dir, device=device, backend=backend
        )
    except (OSError, ValueError) as e:
        _fail(str(e), EXIT_ERROR)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _registry() -> Any:
    from odqa.models import registry_from_settings

    return registry_from_settings(state.settings)


def _backend_kwargs() -> dict[str, Any]:
    """Where the BM25 (and dense) side lives, from settings (``ODQA_BACKEND``, ``ELASTICSEARCH_*``)."""
    s = state.settings
    if s.backend == "embedded" and s.dense_backend == "faiss":
        return {}
    from odqa.pipelines.backends import es_config_from_settings

    return {"backend": s.backend, "es": es_config_from_settings(s), "dense": s.dense_backend}


def _es_error(e: BaseException) -> BaseException | None:
    """The Elasticsearch error behind ``e`` (Haystack wraps component errors), if any."""
    from odqa.components.stores.es_config import EsError

    while e is not None:
        if isinstance(e, EsError):
            return e
        e = e.__cause__  # type: ignore[assignment]
    return None


def _check_index(index_dir: Path) -> None:
    if not (index_dir / "manifest.json").exists():
        _fail(f"no index at {index_dir}: run `odqa index COLLECTION` first (or pass --index-dir)", EXIT_INDEX)


#: ``--set`` option shared by the commands that load a query graph
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a component parameter of the graph: component.param=value (YAML value; repeat).",
    ),
]


def _quiet_model_loading() -> None:
    """No per-model "Loading weights" bars and load reports when answering (training keeps them)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _load_runner(
    pipeline: str, overrides: dict[str, dict[str, Any]] | None = None, sets: list[str] | None = None
) -> Any:
    from odqa.models import ModelUnavailableError
    from odqa.pipelines.loader import PipelineError, load_pipeline, parse_overrides
    from odqa.pipelines.runner import QueryRunner

    _check_index(state.settings.index_dir)
    _quiet_model_loading()
    try:
        merged = {c: dict(p) for c, p in (overrides or {}).items()}
        for comp, params in parse_overrides(sets or []).items():
            merged.setdefault(comp, {}).update(params)
        pipe = load_pipeline(
            pipeline,
            index_dir=state.settings.index_dir,
            registry=_registry(),
            overrides=merged,
            device=state.settings.device,
            **_backend_kwargs(),
        )
    except ModelUnavailableError as e:
        _fail(str(e), EXIT_MODEL)
    except PipelineError as e:
        _fail(str(e), EXIT_ERROR)
    runner = QueryRunner(pipe)
    try:
        runner.warm_up()
    except Exception as e:
        if (es := _es_error(e)) is not None:
            _fail(str(es), EXIT_ERROR)
        raise
    return runner


# ----------------------------------------------------------------------------- index
@app.command()
def index(
    collection: Annotated[
        Path, typer.Argument(help="BEIR dir, SQuAD .json, .jsonl, or a directory of .txt/.md/.html.")
    ],
    fmt: Annotated[str, typer.Option("--format", help="auto | beir | squad | jsonl | dir")] = "auto",
    pipeline: Annotated[str, typer.Option(help="Indexing graph name or YAML path.")] = "indexing",
    split: Annotated[str | None, typer.Option(help="Passage unit: word | sentence | none.")] = None,
    length: Annotated[int | None, typer.Option(help="Units per passage.")] = None,
    overlap: Annotated[int | None, typer.Option(help="Units shared by neighbouring passages.")] = None,
    faiss_index: Annotated[str | None, typer.Option(help="FAISS factory string, e.g. Flat, HNSW32.")] = None,
    append: Annotated[bool, typer.Option(help="Add to the existing index instead of replacing it.")] = False,
    strict: Annotated[bool, typer.Option(help="Abort at the first malformed record.")] = False,
) -> None:
    """Index a collection into the BM25 and FAISS stores (same passage ids in both)."""
    from odqa.corpus.types import IngestError
    from odqa.models import ModelUnavailableError
    from odqa.pipelines.indexing import index_collection

    splitter = {
        k: v for k, v in {"unit": split, "length": length, "overlap": overlap}.items() if v is not None
    }
    overrides: dict[str, dict[str, Any]] = {"splitter": splitter} if splitter else {}
    if faiss_index:
        overrides["faiss_writer"] = {
            "document_store": {
                "type": "odqa.components.stores.faiss_document_store.OdqaFAISSDocumentStore",
                "init_parameters": {
                    "path": str(state.settings.index_dir / "faiss"),
                    "index_string": faiss_index,
                },
            }
        }
    t0 = time.perf_counter()
    try:
        report = index_collection(
            collection,
            index_dir=state.settings.index_dir,
            registry=_registry(),
            fmt=fmt,  # type: ignore[arg-type]
            pipeline=pipeline,
            overrides=overrides,
            fresh=not append,
            strict=strict,
            **_backend_kwargs(),
        )
    except ModelUnavailableError as e:
        _fail(str(e), EXIT_MODEL)
    except IngestError as e:
        _fail(f"{e.problem} (--strict)", EXIT_ERROR)
    except (OSError, ValueError) as e:
        _fail(str(e), EXIT_ERROR)
    except Exception as e:
        if (es := _es_error(e)) is not None:
            _fail(str(es), EXIT_ERROR)
        raise
    console.print(
        f"indexed {report.documents} documents as {report.passages} passages into {report.index_dir} "
        f"in {time.perf_counter() - t0:.1f}s; {len(report.problems)} problems"
    )
    for p in report.problems[:20]:
        err.print(f"  skipped: {p}", highlight=False)
    if len(report.problems) > 20:
        err.print(f"  ... and {len(report.problems) - 20} more")


# ----------------------------------------------------------------------------- ask
def _answers_payload(result: Any) -> list[dict[str, Any]]:
    answers = result.answers
    out = []
    for a in answers:
        if a.data is None:
            continue
        doc = a.document
        start, end = (a.document_offset.start, a.document_offset.end) if a.document_offset else (None, None)
        out.append(
            {
                "answer": a.data,
                "score": round(float(a.score), 4),
                "doc_id": doc.meta.get("doc_id") if doc else None,
                "passage_id": doc.id if doc else None,
                "title": doc.meta.get("title") if doc else None,
                "span": [start, end],
                "passage": doc.content if doc else None,
            }
        )
    return out


def _documents_payload(result: Any) -> list[dict[str, Any]]:
    for name in reversed(list(result.outputs)):
        docs = result.outputs[name].get("documents")
        if docs is not None:
            return [
                {
                    "passage_id": d.id,
                    "doc_id": d.meta.get("doc_id"),
                    "score": d.score,
                    "title": d.meta.get("title"),
                    "passage": d.content,
                }
                for d in docs
            ]
    return []


def _index_analyzer(runner: Any) -> str:
    """The text analyzer of the graph's BM25 store (term weights are shown as the index sees them)."""
    for _, component in runner.pipeline.walk():
        analyzer = getattr(getattr(component, "document_store", None), "analyzer", None)
        if isinstance(analyzer, str):
            return analyzer
    return "standard"


def _explanation(result: Any, analyzer: str) -> dict[str, Any]:
    from odqa.components.analyzers.explain import explain

    return explain(result, analyzer=analyzer)


def _print_explanation(report: dict[str, Any]) -> None:
    if not report.get("analyzed"):
        console.print(f"  [dim]explain: {'; '.join(report.get('notes', []))} (try --pipeline qa)[/]")
        return
    ents = ", ".join(f"{e['text']} [{e['label']}]" for e in report["entities"]) or "none"
    expected = report["expected_answer_type"]
    types = ", ".join(expected["types"]) or "any"
    console.print(f"  [cyan]entities:[/] {ents}   [dim]({report['backend']})[/]", highlight=False)
    console.print(
        f"  [cyan]expected answer:[/] {types}" + (f"  (cue: {expected['cue']!r})" if expected["cue"] else ""),
        highlight=False,
    )
    console.print(f"  [cyan]keywords:[/] {' '.join(report['keywords']) or '-'}", highlight=False)
    query = report["query"]
    if query["changed"]:
        changes = "  ".join(
            f"{t} {query['before'].get(t, 0):g}->{w:g}" for t, w in sorted(query["changed"].items())
        )
        console.print(f"  [cyan]BM25 term weights:[/] {changes}", highlight=False)
    else:
        console.print("  [cyan]BM25 query:[/] unchanged (no entity boosts)", highlight=False)
    filt = report.get("entity_filter")
    if filt:
        shown = {k: v for k, v in filt.items() if k != "component"}
        console.print(f"  [cyan]entity filter:[/] {json.dumps(shown, default=str)}", highlight=False)
    prior = report.get("answer_type_prior")
    if prior:
        for a in prior["answers"][:5]:
            console.print(
                f"  [cyan]answer-type prior:[/] {a['answer']!r} {a['answer_type'] or 'untyped'} "
                f"({a['type_match']}): {a['reader_score']:.3f} -> {a['score']:.3f}",
                highlight=False,
            )
    for note in report.get("notes", []):
        console.print(f"  [dim]note: {note}[/]", highlight=False)


@app.command()
def ask(
    questions: Annotated[list[str], typer.Argument(help="One or more questions.")],
    pipeline: Annotated[
        str, typer.Option(help="Query graph: qa | hybrid | bm25 | dense | a YAML path.")
    ] = "qa",
    top_k: Annotated[int, typer.Option(help="Answers (or documents) to show.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    timings: Annotated[bool, typer.Option(help="Show time per pipeline stage.")] = False,
    explain: Annotated[
        bool,
        typer.Option(help="Show the query analysis: entities, expected answer type, how the query changed."),
    ] = False,
    set_: SetOption = None,
) -> None:
    """Answer questions over the indexed collection."""
    runner = _load_runner(pipeline, sets=set_)
    t0 = time.perf_counter()
    runner.warm_up()
    warm_s = time.perf_counter() - t0
    for q in questions:
        if not q.strip():
            _fail("empty question", EXIT_ERROR)
        result = runner.run(q)
        answers = _answers_payload(result)[:top_k]
        docs = [] if answers else _documents_payload(result)[:top_k]
        if as_json:
            payload = {
                "question": q,
                "answers": answers,
                "documents": docs,
                "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
                "total_s": round(result.total_s, 4),
            }
            if explain:
                payload["explain"] = _explanation(result, _index_analyzer(runner))
            print(json.dumps(payload, ensure_ascii=False))
            continue
        console.print(f"\n[bold]Q:[/] {q}")
        if explain:
            _print_explanation(_explanation(result, _index_analyzer(runner)))
        if answers:
            for i, a in enumerate(answers, 1):
                s, e = a["span"]
                ctx = a["passage"] or ""
                left, right = ctx[max(0, s - 60) : s], ctx[e : e + 60]
                console.print(
                    f"  {i}. [bold green]{a['answer']}[/]  score={a['score']:.3f}  "
                    f"doc={a['doc_id']}  passage={a['passage_id']}  chars {s}-{e}",
                    highlight=False,
                )
                console.print(f"     …{left}[reverse]{ctx[s:e]}[/]{right}…", highlight=False)
        else:
            for i, d in enumerate(docs, 1):
                console.print(
                    f"  {i}. {d['passage_id']}  score={d['score']:.4f}  {(d['passage'] or '')[:100]}…",
                    highlight=False,
                )
        if timings:
            stages = "  ".join(f"{k}={v * 1000:.0f}ms" for k, v in result.timings.items())
            console.print(f"  [dim]{stages}  total={result.total_s * 1000:.0f}ms (warm-up {warm_s:.1f}s)[/]")


# ----------------------------------------------------------------------------- search
@app.command()
def search(
    queries: Annotated[Path, typer.Option(help="BEIR queries.jsonl, qid<TAB>text .tsv, or SQuAD .json.")],
    run: Annotated[Path, typer.Option(help="TREC run file to write (final stage).")],
    pipeline: Annotated[str, typer.Option(help="Query graph name or YAML path.")] = "hybrid",
    top_k: Annotated[int, typer.Option(help="Documents per query in the run.")] = 100,
    stages_dir: Annotated[Path | None, typer.Option(help="Also write one run per stage here.")] = None,
    passages: Annotated[
        bool, typer.Option(help="Rank passages; default ranks documents (max passage).")
    ] = False,
    tag: Annotated[str | None, typer.Option(help="Run tag (default: pipeline name).")] = None,
    set_: SetOption = None,
) -> None:
    """Run every query through a graph and write TREC run files."""
    from tqdm import tqdm

    from odqa.corpus.queries import read_queries
    from odqa.eval.trec import write_run
    from odqa.pipelines.search import runs_from_result

    try:
        qs = read_queries(queries)
    except (OSError, ValueError) as e:
        _fail(str(e), EXIT_ERROR)
    runner = _load_runner(pipeline, sets=set_)
    runner.warm_up()
    runs: dict[str, dict[str, dict[str, float]]] = {}
    latencies: list[float] = []
    for q in tqdm(qs, desc="searching", unit="query"):
        result = runner.run(q.text)
        latencies.append(result.total_s)
        for stage, ranking in runs_from_result(result, top_k=top_k, doc_level=not passages).items():
            runs.setdefault(stage, {})[q.qid] = ranking
    final = list(runs)[-1] if runs else None
    if final is None:
        _fail(f"pipeline {pipeline!r} produced no documents", EXIT_ERROR)
    name = tag or Path(pipeline).stem
    write_run(runs[final], run, tag=name)
    console.print(f"wrote {run} ({len(runs[final])} queries, stage '{final}')")
    if stages_dir:
        for stage, r in runs.items():
            path = stages_dir / f"{name}.{stage}.trec"
            write_run(r, path, tag=f"{name}.{stage}")
            console.print(f"wrote {path}")
    if latencies:
        import numpy as np

        console.print(
            f"latency p50={np.percentile(latencies, 50) * 1000:.1f}ms "
            f"p95={np.percentile(latencies, 95) * 1000:.1f}ms over {len(latencies)} queries"
        )


# ----------------------------------------------------------------------------- models / pipelines
models_app = typer.Typer(help="Model roles: show them, export a trained model, import one.")
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context) -> None:
    """Show how each model role resolves and whether it is available here."""
    if ctx.invoked_subcommand is not None:
        return
    from odqa.models import PROVIDERS, SUGGESTED_HUB_IDS

    table = Table("role", "resolves to", "kind", "available", "how to provide", "online alternative")
    for ref in _registry().all():
        ok = "[green]yes[/]" if ref.available else f"[red]no[/] ({ref.detail})"
        table.add_row(
            ref.role, ref.location, ref.kind, ok, PROVIDERS.get(ref.role, ""), SUGGESTED_HUB_IDS[ref.role]
        )
    console.print(table)
    console.print(
        f"models dir: {state.settings.resolved_models_dir}  "
        "(override a role: ODQA_<ROLE>_MODEL=path-or-hub-id)"
    )


@models_app.command("export")
def models_export(
    role: Annotated[str, typer.Argument(help="reader | reranker | ner | embedder (a local model).")],
    file: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz).")],
) -> None:
    """Write a trained model as one verified archive (model card, manifest, checksums)."""
    from odqa.model_archive import ModelArchiveError, export_model

    try:
        ref = _registry().resolve(role)
    except ValueError as e:
        _fail(str(e), EXIT_ERROR)
    if ref.kind != "local" or not ref.available:
        _fail(
            f"{role} resolves to {ref.location} ({ref.detail}): only a local model directory can be exported",
            EXIT_MODEL,
        )
    try:
        info = export_model(ref.location, file, role=role)
    except ModelArchiveError as e:
        _fail(str(e), EXIT_ERROR)
    console.print(
        f"exported {role} ({ref.location}) -> {file}: {info.files} files, {info.bytes / 1e6:.1f} MB"
    )


@models_app.command("import")
def models_import(
    file: Annotated[Path, typer.Argument(help="An archive written by `odqa models export`.")],
    role: Annotated[str | None, typer.Option(help="Refuse an archive of another role.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Install as <models dir>/NAME (default: the archive's role).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an installed model of that name.")] = False,
) -> None:
    """Verify an archive (checksums, paths, role) and install it under the models directory."""
    from odqa.model_archive import ModelArchiveError, import_model

    try:
        target = import_model(file, state.settings.resolved_models_dir, role=role, name=name, force=force)
    except ModelArchiveError as e:
        _fail(str(e), EXIT_ERROR)
    console.print(f"imported {file} -> {target}")


@app.command()
def pipelines(
    show: Annotated[str | None, typer.Argument(help="Print this graph's YAML.")] = None,
) -> None:
    """List the built-in pipeline graphs (or print one)."""
    from odqa.pipelines.loader import PipelineError, available_pipelines, describe, find_pipeline

    if show:
        try:
            print(find_pipeline(show).read_text(encoding="utf-8"))
        except PipelineError as e:
            _fail(str(e), EXIT_ERROR)
        return
    table = Table("name", "description", "file")
    for name, path in available_pipelines().items():
        table.add_row(name, describe(path), str(path))
    console.print(table)


# ----------------------------------------------------------------------------- train
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
    str | None, typer.Option(help="Start from these weights (path or hub id; default: all-MiniLM-L6-v2).")
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
            _fail(f"--param {item!r}: expected name=value", EXIT_ERROR)
        out[name.strip()] = yaml.safe_load(value)
    return out


def _odqa_logging() -> None:
    """odqa's own progress messages on stderr; libraries' load reports and warnings silenced."""
    import logging
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[odqa] %(message)s"))
    logger = logging.getLogger("odqa")
    if not logger.handlers:
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _train_common(role: str, recipe: str, overrides: dict[str, Any], **loop: Any) -> None:
    """Train ``role`` with recipe ``recipe``, its own ``overrides`` and the shared ``loop`` options."""
    _with_tcmalloc()
    _odqa_logging()
    import importlib

    mod = importlib.import_module(f"odqa.train.{role}")
    params = _parse_params(loop.pop("param", None))
    overrides = {k: v for k, v in {**overrides, **loop, **params}.items() if v is not None}
    overrides.setdefault("output_dir", str(state.settings.resolved_models_dir / role))
    overrides.setdefault("device", state.settings.device)
    overrides["command"] = " ".join(["odqa", *sys.argv[1:]])
    try:  # unknown recipe (KeyError) or config field (TypeError): a usage problem, said plainly
        cfg = mod.config_from_recipe(recipe, **overrides)
    except (KeyError, TypeError) as e:
        _fail(str(e.args[0]) if e.args else str(e), EXIT_ERROR)
    try:  # bad data files, unknown datasets; anything else is a bug and keeps its traceback
        result = getattr(mod, f"train_{role}")(cfg)
    except (OSError, ValueError) as e:
        _fail(str(e), EXIT_ERROR)
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
            help="quick (12-minute budget, any machine) | base (~2 h on 2 CPU cores; resumable) "
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
        output_dir=output_dir,
        base_model=base_model,
        epochs=epochs,
        max_steps=max_steps,
        lora=lora,
        resume=resume,
        minutes=minutes,
        precision=precision,
        param=param,
    )


@train_app.command("reranker")
def train_reranker(
    recipe: Annotated[
        str,
        typer.Option(help="quick (minutes, CPU) | base (~1 h, CPU) | full (hours; resumable)."),
    ] = "quick",
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
    """Fine-tune the cross-encoder re-ranker from MiniLM (SQuAD + mined negatives, MS MARCO, BEIR)."""
    _train_common(
        "reranker",
        recipe,
        dict(
            squad_questions=max_examples,
        ),
        output_dir=output_dir,
        base_model=base_model,
        epochs=epochs,
        max_steps=max_steps,
        lora=lora,
        resume=resume,
        minutes=minutes,
        precision=precision,
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
        output_dir=output_dir,
        base_model=base_model,
        epochs=epochs,
        max_steps=max_steps,
        lora=lora,
        resume=resume,
        minutes=minutes,
        precision=precision,
        param=param,
    )


# ----------------------------------------------------------------------------- demo
#: what the first run trains, and roughly how long it takes (the reader recipe's wall-clock budget)
DEMO_TRAINING = {"reader": "a 12-minute budget on any machine", "reranker": "about 10 minutes"}


@app.command()
def demo(
    collection: Annotated[
        Path | None, typer.Option(help="Default: SQuAD dev part A under the data dir.")
    ] = None,
    questions: Annotated[list[str] | None, typer.Option("--question", "-q", help="Questions to ask.")] = None,
    pipeline: Annotated[str, typer.Option(help="The query graph to answer with.")] = "qa",
) -> None:
    """The main job: make sure the models the graph needs and the index exist (training the quick
    recipe of a missing model, once), then answer."""
    import subprocess

    from odqa.pipelines.loader import PipelineError, graph_roles

    settings = state.settings
    collection = collection or settings.data_dir / "squad" / "dev-v1.1-part-a.json"
    if not collection.exists():
        _fail(f"demo collection not found: {collection} (set ODQA_DATA_DIR or pass --collection)", EXIT_ERROR)
    try:
        roles = graph_roles(pipeline)
    except PipelineError as e:
        _fail(str(e), EXIT_ERROR)
    reg = _registry()
    missing = [role for role in DEMO_TRAINING if role in roles and not reg.resolve(role).available]
    manifest = settings.index_dir / "manifest.json"
    indexed = json.loads(manifest.read_text())["collection"] if manifest.exists() else None
    reindex = indexed != str(collection.resolve())
    steps = [*(f"train the {role}" for role in missing), *(["index"] if reindex else []), "answer"]
    step = 0

    def announce(what: str) -> None:
        nonlocal step
        step += 1
        console.print(f"[bold]\\[{step}/{len(steps)}][/] {what}", highlight=False)

    for role in missing:
        announce(
            f"{role} model missing -> `odqa train {role} --recipe quick` "
            f"({DEMO_TRAINING[role]}; runs once, the model goes to {settings.resolved_models_dir / role})"
        )
        cmd = [sys.executable, "-m", "odqa.cli", "--models-dir", str(settings.resolved_models_dir)]
        cmd += ["--device", settings.device, "train", role, "--recipe", "quick"]
        if subprocess.call(cmd) != 0:
            _fail(f"training the {role} failed", EXIT_ERROR)
    if reindex:
        announce(f"index {collection} -> {settings.index_dir} (passages into BM25 and FAISS)")
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


def _register_subcommands() -> None:
    """Commands that live in their own modules (evaluation, Elasticsearch)."""
    import odqa.cli_eval  # noqa: F401  (registers evaluate / eval / compare / report)
    from odqa.cli_es import es_app

    app.add_typer(es_app, name="es")


def main() -> None:
    _register_subcommands()
    app()


if __name__ == "__main__":
    # run through the importable module so that odqa.cli_eval registers on the same app
    from odqa.cli import main as cli_main

    cli_main()
