"""Index a collection: read it (any supported format), run the indexing graph in chunks, and
swap the finished index into place.

A fresh index is built beside the target and renamed over it at the end, so a failed run leaves
the previous index untouched; an incremental run (``fresh=False``) adds to the existing stores,
each chunk saved atomically by the writers.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odqa.components.preprocessors.passage_splitter import source_to_document
from odqa.corpus.load import CollectionFormat, read_collection
from odqa.corpus.types import Problem
from odqa.pipelines.backends import backend_indexing, check_backend
from odqa.pipelines.env import PipelineEnv
from odqa.utils.fs import atomic_dir, write_json
from odqa.utils.manifest import make_manifest


@dataclass
class IndexReport:
    index_dir: Path
    documents: int = 0
    passages: int = 0
    problems: list[Problem] = field(default_factory=list)


def _fill_index_dir(value: Any, index_dir: Path) -> Any:
    """``overrides`` with ``${index_dir}`` in its strings replaced by the directory being written
    (a fresh index is built beside the target and swapped in at the end)."""
    if isinstance(value, str):
        return value.replace("${index_dir}", str(index_dir))
    if isinstance(value, dict):
        return {k: _fill_index_dir(v, index_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_index_dir(v, index_dir) for v in value]
    return value


def _chunks(it: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def index_collection(
    collection: str | Path,
    *,
    env: PipelineEnv,
    fmt: CollectionFormat = "auto",
    pipeline: str | Path = "indexing",
    overrides: dict[str, dict[str, Any]] | None = None,
    fresh: bool = True,
    strict: bool = False,
    chunk_size: int = 20000,
    progress: bool = True,
    on_problem: Callable[[Problem], None] | None = None,
) -> IndexReport:
    """Read ``collection`` and write the BM25 and FAISS stores under ``env.index_dir`` (with the
    Elasticsearch backend the BM25 side goes to Elasticsearch, same passage ids).

    Usually called as :meth:`odqa.pipelines.env.PipelineEnv.index`.
    """
    check_backend(env.backend, env.es)
    target = env.index_dir
    report = IndexReport(index_dir=target)

    def record(p: Problem) -> None:
        report.problems.append(p)
        if on_problem:
            on_problem(p)

    docs = read_collection(collection, fmt, strict=strict, on_problem=record, progress=progress)

    def run_into(work_dir: Path) -> None:
        pipe = env.replace(index_dir=work_dir).load(pipeline, _fill_index_dir(overrides, work_dir))
        pipe.warm_up()
        with backend_indexing(pipe, fresh=fresh):
            for chunk in _chunks(iter(docs), chunk_size):
                out = pipe.run(
                    {"splitter": {"documents": [source_to_document(d) for d in chunk]}},
                    include_outputs_from={"splitter"},
                )
                report.documents += len(chunk)
                report.passages += len(out["splitter"]["documents"])
            if report.documents == 0:  # before an Elasticsearch alias swap, too
                raise ValueError(f"{collection}: no documents were read; the previous index is kept")
        manifest = make_manifest(
            "odqa-index",
            collection=str(Path(collection).resolve()),
            format=fmt,
            pipeline=str(pipeline),
            backend=env.backend,
            dense=env.dense,
            overrides=overrides or {},
            documents=report.documents,
            passages=report.passages,
            problems=len(report.problems),
        )
        write_json(work_dir / "manifest.json", manifest)

    if fresh:
        with atomic_dir(target) as tmp:
            run_into(tmp)
    else:
        run_into(target)
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    return report
