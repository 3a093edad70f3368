"""``odqa index``, ``odqa ask``, ``odqa search``, ``odqa pipelines``: build an index, answer questions,
write TREC runs, list the graphs. Heavy imports happen inside the commands."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from odqa.cli.common import (
    EXIT_ERROR,
    SetOption,
    console,
    err,
    errors,
    fail,
    open_graph,
    pipeline_env,
    quiet_libraries,
    with_sets,
)


# ----------------------------------------------------------------------------- index
def index(
    collection: Annotated[
        Path | None,
        typer.Argument(help="BEIR dir, SQuAD .json, .jsonl, or a directory of .txt/.md/.html."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto | beir | squad | jsonl | dir")] = "auto",
    pipeline: Annotated[
        str | None,
        typer.Option(
            help="Indexing graph name or YAML path (default: indexing; --reembed: the index's own)."
        ),
    ] = None,
    split: Annotated[str | None, typer.Option(help="Passage unit: word | sentence | none.")] = None,
    length: Annotated[int | None, typer.Option(help="Units per passage.")] = None,
    overlap: Annotated[int | None, typer.Option(help="Units shared by neighbouring passages.")] = None,
    faiss_index: Annotated[str | None, typer.Option(help="FAISS factory string, e.g. Flat, HNSW32.")] = None,
    append: Annotated[bool, typer.Option(help="Add to the existing index instead of replacing it.")] = False,
    strict: Annotated[bool, typer.Option(help="Abort at the first malformed record.")] = False,
    sets: SetOption = None,
    reembed: Annotated[
        bool,
        typer.Option(
            help="Rebuild only the vectors of the existing index with the current embedder "
            "(ODQA_EMBEDDER_MODEL); BM25 is kept. Takes no collection."
        ),
    ] = False,
) -> None:
    """Index a collection into the BM25 and FAISS stores (same passage ids in both)."""
    quiet_libraries()  # odqa's bars (reading, splitting, embedding), not the libraries' loading reports
    if reembed:
        if sets:
            fail("--reembed uses the index's own graph settings: it takes no --set", EXIT_ERROR)
        _reembed(collection, pipeline, append=append)
        return
    if collection is None:
        fail("give the collection to index (or --reembed to re-embed the existing index)", EXIT_ERROR)
        return
    splitter = {
        k: v for k, v in {"unit": split, "length": length, "overlap": overlap}.items() if v is not None
    }
    overrides: dict[str, dict[str, Any]] = {"splitter": splitter} if splitter else {}
    if faiss_index:
        overrides["faiss_writer"] = {
            "document_store": {
                "type": "odqa.components.stores.faiss_document_store.OdqaFAISSDocumentStore",
                "init_parameters": {
                    "path": "${index_dir}/faiss",  # the directory being built (a fresh run builds beside)
                    "index_string": faiss_index,
                },
            }
        }
    with errors():
        overrides = with_sets(overrides, sets)
    from odqa.pipelines.indexing import index_collection

    t0 = time.perf_counter()
    with errors():
        report = index_collection(
            collection,
            env=pipeline_env(),
            fmt=fmt,  # type: ignore[arg-type]
            pipeline=pipeline or "indexing",
            overrides=overrides,
            fresh=not append,
            strict=strict,
        )
    console.print(
        f"indexed {report.documents} documents as {report.passages} passages into {report.index_dir} "
        f"in {time.perf_counter() - t0:.1f}s; {len(report.problems)} problems"
    )
    if report.stale_passages_removed:
        console.print(f"replaced documents: {report.stale_passages_removed} stale passages removed")
    for p in report.problems[:20]:
        err.print(f"  skipped: {p}", highlight=False)
    if len(report.problems) > 20:
        err.print(f"  ... and {len(report.problems) - 20} more")


def _reembed(collection: Path | None, pipeline: str | None, *, append: bool) -> None:
    from odqa.pipelines.indexing import reembed_index

    if collection is not None or append:
        fail(
            "--reembed rebuilds the existing index's vectors: it takes no collection nor --append", EXIT_ERROR
        )
    t0 = time.perf_counter()
    with errors():
        report = reembed_index(env=pipeline_env(), pipeline=pipeline)
    console.print(
        f"re-embedded {report.passages} passages of {report.index_dir} in {time.perf_counter() - t0:.1f}s: "
        f"vectors from {report.embedder} (were {report.previous_embedder or 'unknown'}); BM25 unchanged"
    )


def delete(
    doc_id: Annotated[list[str] | None, typer.Option(help="A document id to delete (repeat).")] = None,
    ids: Annotated[Path | None, typer.Option(help="A file of document ids, one per line.")] = None,
) -> None:
    """Delete documents (all their passages) from the index: BM25 (or Elasticsearch) and FAISS."""
    from odqa.pipelines.indexing import delete_documents

    wanted = list(doc_id or [])
    if ids is not None:
        with errors():
            text = ids.read_text(encoding="utf-8")
        wanted += [line.strip() for line in text.splitlines() if line.strip()]
    if not wanted:
        fail("give --doc-id ID (repeat) or --ids FILE", EXIT_ERROR)
    with errors():
        report = delete_documents(wanted, env=pipeline_env())
    console.print(
        f"deleted {len(report.documents) - len(report.missing)} documents ({report.passages} passages) "
        f"from {report.index_dir}"
    )
    if report.missing:
        err.print(f"  not in the index: {', '.join(report.missing[:20])}", highlight=False)


# ----------------------------------------------------------------------------- ask
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
    for q in questions:
        if not q.strip():
            fail("empty question", EXIT_ERROR)
    t0 = time.perf_counter()
    runner = open_graph(pipeline, set_)
    startup_s = time.perf_counter() - t0  # loading the graph, its models and stores
    for q in questions:
        result = runner.run(q)
        answers = result.answer_dicts()[:top_k]
        docs = [] if answers else result.passage_dicts()[:top_k]
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
            console.print(
                f"  [dim]{stages}  total={result.total_s * 1000:.0f}ms (start-up {startup_s:.1f}s)[/]"
            )


# ----------------------------------------------------------------------------- search
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

    with errors():
        qs = read_queries(queries)
    runner = open_graph(pipeline, set_)
    runs: dict[str, dict[str, dict[str, float]]] = {}
    latencies: list[float] = []
    for q in tqdm(qs, desc="searching", unit="query"):
        result = runner.run(q.text)
        latencies.append(result.total_s)
        for stage, ranking in runs_from_result(result, top_k=top_k, doc_level=not passages).items():
            runs.setdefault(stage, {})[q.qid] = ranking
    final = list(runs)[-1] if runs else None
    if final is None:
        fail(f"pipeline {pipeline!r} produced no documents", EXIT_ERROR)
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


# ----------------------------------------------------------------------------- pipelines
def pipelines(
    show: Annotated[str | None, typer.Argument(help="Print this graph's YAML.")] = None,
) -> None:
    """List the built-in pipeline graphs (or print one)."""
    from odqa.pipelines.loader import available_pipelines, describe, find_pipeline

    if show:
        with errors():
            print(find_pipeline(show).read_text(encoding="utf-8"))
        return
    table = Table("name", "description", "file")
    with errors():
        for name, path in available_pipelines().items():
            table.add_row(name, describe(path), str(path))
    console.print(table)
