"""Evaluation commands of the ``odqa`` CLI: ``evaluate``, ``eval``, ``compare``, ``report``.

Heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from odqa.cli.common import (
    EXIT_ERROR,
    EXIT_INDEX,
    SetOption,
    console,
    err,
    errors,
    fail,
    open_graph,
    pipeline_env,
    settings,
)

METRICS_HELP = (
    "Comma-separated metrics: P@k, R@k, MAP, AP@k, MRR, RR@k, nDCG@k, nDCG, R-prec, success@k, AP_retrieved."
)


def _metric_list(text: str | None, default: tuple[str, ...]) -> list[str]:
    from odqa.eval.metrics import parse_metric

    names = [m.strip() for m in text.split(",") if m.strip()] if text else list(default)
    if not names:
        fail("no metric given", EXIT_ERROR)
    for name in names:
        try:
            parse_metric(name)
        except ValueError as e:
            fail(str(e), EXIT_ERROR)
    return names


def _read_pair(qrels: Path, runs: list[Path]) -> tuple[Any, list[Any]]:
    from odqa.eval.trec import read_qrels, read_run

    for path in (qrels, *runs):
        if not path.is_file():
            fail(f"{path}: no such file", EXIT_ERROR)
    try:
        return read_qrels(qrels), [read_run(r) for r in runs]
    except (OSError, ValueError) as e:
        fail(str(e), EXIT_ERROR)
        raise  # unreachable: _fail raises


# ----------------------------------------------------------------------------- evaluate
def evaluate(
    qrels: Annotated[Path, typer.Option(help="Qrels: TREC 'qid iter docid grade' or BEIR .tsv.")],
    run: Annotated[Path, typer.Option(help="TREC run file 'qid Q0 docid rank score tag' (odqa search).")],
    metrics: Annotated[str | None, typer.Option(help=METRICS_HELP)] = None,
    per_query: Annotated[bool, typer.Option("--per-query", help="Also show every query's values.")] = False,
    missing_as_zero: Annotated[
        bool,
        typer.Option("--missing-as-zero", help="Judged queries absent from the run score 0 (trec_eval -c)."),
    ] = False,
    rel_threshold: Annotated[
        int, typer.Option(help="Minimum grade of a relevant document (trec_eval -l).")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score a TREC run against qrels with trec_eval conventions."""
    from odqa.eval.metrics import DEFAULT_METRICS
    from odqa.eval.metrics import evaluate as run_evaluate

    names = _metric_list(metrics, DEFAULT_METRICS)
    judgements, (ranking,) = _read_pair(qrels, [run])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            result = run_evaluate(
                judgements,
                ranking,
                names,
                rel_threshold=rel_threshold,
                missing_as_zero=missing_as_zero,
                per_query=per_query,
            )
    except ValueError as e:
        fail(str(e), EXIT_ERROR)
    for w in caught:
        err.print(f"[yellow]warning:[/] {w.message}", highlight=False)
    if as_json:
        payload: dict[str, Any] = {"metrics": result.means, "queries": result.n_queries}
        if result.n_missing:
            payload["missing"] = result.n_missing
        if per_query:
            payload["per_query"] = result.per_query
        print(json.dumps(payload, indent=2))
        return
    table = Table("metric", "value", title=f"{run.name} ({result.n_queries} queries)")
    for name in names:
        table.add_row(name, f"{result.means[name]:.4f}")
    console.print(table)
    if result.n_missing:
        how = "scored 0" if missing_as_zero else "ignored; --missing-as-zero counts them as 0"
        console.print(f"{result.n_missing} judged queries are not in the run ({how})")
    if per_query:
        pq = Table("query", *names, title="per query")
        for qid, vals in result.per_query.items():
            pq.add_row(qid, *(f"{vals[n]:.4f}" for n in names))
        console.print(pq)


# ----------------------------------------------------------------------------- compare
def compare(
    qrels: Annotated[Path, typer.Option(help="Qrels: TREC or BEIR .tsv.")],
    run: Annotated[list[Path], typer.Option(help="Two TREC runs: the first is the baseline (repeat --run).")],
    metrics: Annotated[str | None, typer.Option(help=METRICS_HELP)] = None,
    permutations: Annotated[int, typer.Option(help="Random sign flips of the randomization test.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the randomization test.")] = 0,
    alpha: Annotated[float, typer.Option(help="Significance level for the marks.")] = 0.05,
    missing_as_zero: Annotated[
        bool, typer.Option("--missing-as-zero", help="Judged queries absent from a run score 0.")
    ] = False,
    rel_threshold: Annotated[int, typer.Option(help="Minimum grade of a relevant document.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Compare two runs per metric: means, difference, paired randomization and t-test p-values."""
    from odqa.eval.metrics import DEFAULT_METRICS
    from odqa.eval.significance import compare_runs

    if len(run) != 2:
        fail(f"give exactly two runs (--run BASELINE --run OTHER), got {len(run)}", EXIT_ERROR)
    if permutations < 1:
        fail("--permutations must be >= 1", EXIT_ERROR)
    names = _metric_list(metrics, DEFAULT_METRICS)
    judgements, (base, other) = _read_pair(qrels, run)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            comps = compare_runs(
                judgements,
                other,
                base,
                names,
                rel_threshold=rel_threshold,
                missing_as_zero=missing_as_zero,
                n_permutations=permutations,
                seed=seed,
            )
    except ValueError as e:
        fail(str(e), EXIT_ERROR)
    if as_json:
        payload = {
            "baseline": str(run[0]),
            "run": str(run[1]),
            "permutations": permutations,
            "seed": seed,
            "comparisons": [c.to_dict() for c in comps],
        }
        print(json.dumps(payload, indent=2))
        return
    table = Table(
        "metric",
        run[0].name,
        run[1].name,
        "Δ",
        "p rand.",
        "p t-test",
        "W/T/L",
        title=f"{run[1].name} vs baseline {run[0].name} ({comps[0].n if comps else 0} paired queries)",
    )
    from odqa.eval.report_data import fmt_p

    for c in comps:
        style = "green" if c.delta > 0 else "red" if c.delta < 0 else ""
        mark = " *" if c.significant(alpha) else ""
        table.add_row(
            c.metric,
            f"{c.mean_b:.4f}",
            f"{c.mean_a:.4f}",
            f"[{style}]{c.delta:+.4f}[/]" if style else f"{c.delta:+.4f}",
            fmt_p(c.p_randomization) + mark,
            fmt_p(c.p_ttest),
            f"{c.wins}/{c.n - c.wins - c.losses}/{c.losses}",
        )
    console.print(table)
    console.print(
        f"p rand.: paired randomization test (two-sided, {permutations} sign flips, seed {seed}); "
        f"* p < {alpha}. p t-test: paired t-test. W/T/L: queries {run[1].name} wins / ties / loses."
    )


# ----------------------------------------------------------------------------- eval
class QueriesChoice(StrEnum):
    all = "all"
    train = "train"
    dev = "dev"


def default_eval_index_root() -> Path:
    return settings().index_dir.parent / "eval-indexes"


def eval_pipeline(
    pipeline: Annotated[str, typer.Option(help="Query graph: bm25 | dense | hybrid | qa | a YAML path.")],
    dataset: Annotated[Path, typer.Option(help="BEIR directory (qrels) or SQuAD .json (gold answers).")],
    split: Annotated[str, typer.Option(help="BEIR qrels split (qrels/<split>.tsv).")] = "test",
    max_queries: Annotated[int | None, typer.Option(help="Evaluate the first N judged queries only.")] = None,
    queries: Annotated[
        QueriesChoice,
        typer.Option(
            help="Judged queries to evaluate: all, or the train / dev half that `odqa train "
            "retriever|reranker` and `odqa tune fusion` learn from / hold out (seed 13)."
        ),
    ] = QueriesChoice.all,
    out: Annotated[
        Path | None, typer.Option(help="Write per-stage TREC runs and the results JSON here.")
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option(
            help="Index of this dataset (built there when missing); default .odqa/eval-indexes/<name>-<hash>."
        ),
    ] = None,
    metrics: Annotated[str | None, typer.Option(help=METRICS_HELP)] = None,
    top_k: Annotated[int, typer.Option(help="Documents per query kept in each stage's run.")] = 100,
    ragas: Annotated[
        bool | None, typer.Option("--ragas/--no-ragas", help="ragas metrics (default: only with a reader).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results JSON (without per-query values).")
    ] = False,
    set_: SetOption = None,
    name: Annotated[
        str | None, typer.Option(help="Name of this system in results and reports (default: the graph's).")
    ] = None,
) -> None:
    """Run a dataset through a graph and evaluate every stage: retrievers, fusion, re-ranker, reader."""
    from odqa.eval.datasets import default_index_dir, ensure_index, load_dataset
    from odqa.eval.pipeline_eval import DEFAULT_STAGE_METRICS, evaluate_pipeline

    names = _metric_list(metrics, DEFAULT_STAGE_METRICS)
    with errors():
        data = load_dataset(dataset, split=split, max_queries=max_queries, subset=queries.value)
    index_dir = index or default_index_dir(default_eval_index_root(), data)
    env = pipeline_env(index_dir=index_dir)
    with errors(EXIT_INDEX):
        if ensure_index(data, env):
            console.print(f"indexed {data.path} into {index_dir}")
    runner = open_graph(pipeline, set_, env=env)
    with errors():
        result = evaluate_pipeline(runner, name or pipeline, data, metrics=names, top_k=top_k, ragas=ragas)
    result.extra["index_dir"] = str(index_dir)
    path = result.write(out) if out else None
    if as_json:
        payload = result.to_json()
        payload["stages"] = [{k: v for k, v in s.items() if k != "per_query"} for s in payload["stages"]]
        payload.pop("queries", None)
        payload.pop("predictions", None)
        if payload.get("ragas"):
            payload["ragas"] = {k: v for k, v in payload["ragas"].items() if k != "per_query"}
        print(json.dumps(payload, indent=2, default=str))
        return
    _print_evaluation(result)
    if path:
        console.print(f"results: {path}")


def _print_evaluation(result: Any) -> None:
    ds = result.dataset
    retrieval = [s for s in result.stages if s.kind == "retrieval"]
    table = Table(
        "metric",
        *(s.name for s in retrieval),
        title=f"{Path(result.pipeline).stem} on {ds.name}: every retrieval stage ({len(ds.queries)} queries)",
    )
    for name in retrieval[0].means if retrieval else []:
        table.add_row(name, *(f"{s.means.get(name, 0.0):.4f}" for s in retrieval))
    console.print(table)
    for stage in (s for s in result.stages if s.kind == "reader"):
        rt = Table("metric", stage.name, title=f"reader {stage.name}")
        for name, value in stage.means.items():
            rt.add_row(name, f"{value:.4f}")
        console.print(rt)
    funnel = Table(
        "stage",
        "items/query",
        "gold doc found",
        "answer in passages",
        "reader",
        "p50 ms",
        title="funnel: share of queries whose gold is still there",
    )
    for stage in result.stages:
        f = stage.funnel
        lat = result.latency_ms.get(stage.name, {}).get("p50")
        reader = ", ".join(f"{k} {v:.3f}" for k, v in f.items()) if stage.kind == "reader" else ""
        funnel.add_row(
            stage.name,
            f"{stage.depth:.1f}",
            f"{f['found']:.3f}" if "found" in f else "",
            f"{f['answer_found']:.3f}" if "answer_found" in f else "",
            reader,
            f"{lat:.1f}" if lat is not None else "",
        )
    console.print(funnel)
    if result.ragas:
        rt = Table("ragas metric", "value", title=f"ragas {result.ragas.get('version', '')}")
        for name, value in result.ragas["means"].items():
            rt.add_row(name, "" if value is None else f"{value:.4f}")
        for name, reason in result.ragas["skipped"].items():
            rt.add_row(name, f"[dim]skipped: {reason}[/]")
        console.print(rt)


# ----------------------------------------------------------------------------- report
def report(
    results: Annotated[list[Path], typer.Option(help="Results JSON of `odqa eval --out` (repeat).")],
    out: Annotated[Path, typer.Option(help="Report file: .html (self-contained) or .md.")],
    baseline: Annotated[str | None, typer.Option(help="Baseline pipeline name (default: the first).")] = None,
    metrics: Annotated[
        str | None, typer.Option(help="Metrics to show (default: the usual ones present).")
    ] = None,
    permutations: Annotated[int, typer.Option(help="Random sign flips of the randomization test.")] = 10_000,
    top_changed: Annotated[int, typer.Option(help="Most-changed queries listed per pipeline.")] = 10,
) -> None:
    """Compare pipelines side by side: metric tables with significance, curves, funnel, changed queries."""
    from odqa.eval.report import write_report

    for path in results:
        if not path.is_file():
            fail(f"{path}: no such file", EXIT_ERROR)
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    try:
        path = write_report(
            results,
            out,
            baseline=baseline,
            metrics=names,
            n_permutations=permutations,
            top_changed=top_changed,
        )
    except (OSError, ValueError, KeyError) as e:
        fail(str(e), EXIT_ERROR)
    console.print(f"report: {path}")
