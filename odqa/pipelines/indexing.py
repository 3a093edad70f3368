"""Index a collection: read it (any supported format), run the indexing graph in chunks, and
swap the finished index into place.

A fresh index is built beside the target and renamed over it at the end, so a failed run leaves
the previous index untouched; an incremental run (``fresh=False``), a deletion and a re-embedding
(:func:`reembed_index`: new vectors from another embedder, BM25 untouched) work in a copy of the
index that is swapped in the same way.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from odqa.components.preprocessors.passage_splitter import source_to_document
from odqa.components.writers.index_writer import IndexWriter
from odqa.corpus.load import CollectionFormat, read_collection
from odqa.corpus.types import Problem
from odqa.pipelines.backends import backend_indexing, check_backend
from odqa.pipelines.env import INDEX_FORMAT, PipelineEnv, check_index
from odqa.utils.fs import atomic_dir, exclusive_lock, recover_dir, write_json
from odqa.utils.manifest import make_manifest


@dataclass
class IndexReport:
    index_dir: Path
    documents: int = 0
    passages: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: passages of re-indexed documents that their new versions no longer have (``--append``)
    stale_passages_removed: int = 0


@dataclass
class DeleteReport:
    index_dir: Path
    documents: list[str]
    passages: int = 0
    missing: list[str] = field(default_factory=list)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = index_dir / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def delete_documents(
    doc_ids: list[str], *, env: PipelineEnv, pipeline: str | Path = "indexing"
) -> DeleteReport:
    """Delete documents (all their passages) from every store of the index, each saved atomically.

    The stores are the indexing graph's writers' (BM25 or Elasticsearch, and FAISS), so both sides
    stay aligned; BM25 statistics are those of the remaining collection.

    :raises IndexNotFoundError: ``env.index_dir`` holds no index.
    :raises LockedError: another process is writing the index.
    """
    from odqa.pipelines.env import IndexNotFoundError

    if not env.has_index:
        raise IndexNotFoundError(f"no index at {env.index_dir}: nothing to delete from")
    check_index(env.index_dir)
    report = DeleteReport(index_dir=env.index_dir, documents=list(dict.fromkeys(doc_ids)))
    wanted = set(report.documents)
    with exclusive_lock(env.index_dir):
        recover_dir(env.index_dir)
        # delete in a copy swapped in at the end: a kill leaves the old index whole
        with atomic_dir(env.index_dir) as tmp:
            shutil.copytree(env.index_dir, tmp, dirs_exist_ok=True)
            pipe = env.replace(index_dir=tmp).load(pipeline)
            writers = [c for _, c in pipe.walk() if isinstance(c, IndexWriter)]
            found_docs: set[str] = set()
            for i, writer in enumerate(writers):
                writer.warm_up()
                store = writer.document_store
                found = store.filter_documents(
                    {"field": "meta.doc_id", "operator": "in", "value": sorted(wanted)}
                )
                if i == 0:
                    report.passages = len(found)
                    found_docs = {str(d.meta.get("doc_id")) for d in found}
                if found:
                    store.delete_documents([d.id for d in found])
                    if hasattr(store, "save"):
                        store.save()
            report.missing = [d for d in report.documents if d not in found_docs]
            manifest = read_manifest(tmp)
            manifest["deleted"] = [
                *manifest.get("deleted", []),
                *[d for d in report.documents if d in found_docs],
            ]
            write_json(tmp / "manifest.json", manifest)
    return report


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

    With ``fresh=False`` (``odqa index --append``) documents are added to the existing index; a
    document id that is already there is replaced with all of its passages. One writer at a time:
    a second ``odqa index``/``odqa delete`` on the same index fails at once (:class:`LockedError`).
    """
    check_backend(env.backend, env.es)
    target = env.index_dir
    report = IndexReport(index_dir=target)

    def record(p: Problem) -> None:
        report.problems.append(p)
        if on_problem:
            on_problem(p)

    docs = read_collection(collection, fmt, strict=strict, on_problem=record, progress=progress)

    if not fresh and env.has_index:  # appending: same format, same embedder (built beside, swapped in)
        check_index(target, env.registry.resolve("embedder").location)

    def run_into(work_dir: Path) -> None:
        pipe = env.replace(index_dir=work_dir).load(pipeline, _fill_index_dir(overrides, work_dir))
        pipe.warm_up()
        writers = [name for name, c in pipe.walk() if isinstance(c, IndexWriter)]
        with backend_indexing(pipe, fresh=fresh):
            for chunk in _chunks(iter(docs), chunk_size):
                out = pipe.run(
                    {"splitter": {"documents": [source_to_document(d) for d in chunk]}},
                    include_outputs_from={"splitter", *writers},
                )
                report.documents += len(chunk)
                report.passages += len(out["splitter"]["documents"])
                replaced = [out.get(w, {}).get("passages_replaced", 0) for w in writers]
                report.stale_passages_removed += max(replaced, default=0)
            if report.documents == 0:  # before an Elasticsearch alias swap, too
                raise ValueError(f"{collection}: no documents were read; the previous index is kept")
        previous = read_manifest(work_dir) if not fresh else {}
        manifest = make_manifest(
            "odqa-index",
            index_format=INDEX_FORMAT,
            models={
                "embedder": env.registry.resolve("embedder").location,
                "embedder_precision": embedder_precision(pipe),
            },
            collection=previous.get("collection") or str(Path(collection).resolve()),
            appended=[*previous.get("appended", []), str(Path(collection).resolve())] if previous else [],
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

    with exclusive_lock(target):
        recover_dir(target)  # what a killed writer left
        with atomic_dir(target) as tmp:
            if not fresh and target.is_dir():  # append into a copy: a kill leaves the old index whole
                shutil.copytree(target, tmp, dirs_exist_ok=True)
            run_into(tmp)
    return report


def embedder_precision(pipe: Any) -> str:
    """The precision the indexing graph's document embedder runs in (``fp32`` or ``int8``; what
    the index manifest records beside the embedder), ``fp32`` for embedders without the switch."""
    from odqa.components.embedders.document_embedder import OdqaDocumentEmbedder

    found = [c.model_precision for _, c in pipe.walk() if isinstance(c, OdqaDocumentEmbedder)]
    return found[0] if found else "fp32"


@dataclass
class ReembedReport:
    index_dir: Path
    passages: int = 0
    previous_embedder: str | None = None
    embedder: str = ""


def reembed_index(
    *,
    env: PipelineEnv,
    pipeline: str | Path | None = None,
    chunk_size: int = 2000,
    progress: bool = True,
) -> ReembedReport:
    """Rebuild only the dense side of the index with the registry's current embedder
    (``odqa index --reembed``): every passage of the FAISS store -- text and meta as they are --
    is embedded again by the indexing graph's embedder and written to a new FAISS store of the
    same factory string; the BM25 side (or Elasticsearch) is not touched. The manifest then names
    the new embedder, so query graphs embed questions with it. ``pipeline`` ``None``: the indexing
    graph the index was built with (its manifest says which).

    Built in a copy of the index swapped in at the end, like every other write: a failure or a kill
    leaves the old index, old vectors and all.

    :raises IndexNotFoundError: ``env.index_dir`` holds no index.
    :raises LockedError: another process is writing the index.
    """
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore
    from odqa.pipelines.env import IndexNotFoundError

    if not env.has_index:
        raise IndexNotFoundError(f"no index at {env.index_dir}: nothing to re-embed")
    check_index(env.index_dir)
    embedder = env.registry.resolve("embedder").location
    report = ReembedReport(index_dir=env.index_dir, embedder=embedder)
    with exclusive_lock(env.index_dir):
        recover_dir(env.index_dir)
        with atomic_dir(env.index_dir) as tmp:
            shutil.copytree(env.index_dir, tmp, dirs_exist_ok=True)
            manifest = read_manifest(tmp)  # the copy taken under the lock
            report.previous_embedder = (manifest.get("models") or {}).get("embedder")
            graph = pipeline or manifest.get("pipeline") or "indexing"
            pipe = env.replace(index_dir=tmp).load(graph, _fill_index_dir(manifest.get("overrides"), tmp))
            name, writer = next(
                (n, c)
                for n, c in pipe.walk()
                if isinstance(c, IndexWriter) and isinstance(c.document_store, OdqaFAISSDocumentStore)
            )
            (embedder_name,) = list(pipe.graph.predecessors(name))  # the component that embeds
            doc_embedder = pipe.get_component(embedder_name)
            old = OdqaFAISSDocumentStore(path=str(tmp / "faiss"))
            old.warm_up()
            passages = [replace(d, embedding=None) for d in old.filter_documents()]
            shutil.rmtree(tmp / "faiss")
            for component in (doc_embedder, writer):
                if callable(warm_up := getattr(component, "warm_up", None)):
                    warm_up()
            writer.save = False  # one save at the end: the whole copy is swapped in anyway
            with tqdm(total=len(passages), desc="re-embedding", unit="passage", disable=not progress) as bar:
                for chunk in _chunks(iter(passages), chunk_size):
                    writer.run(documents=doc_embedder.run(documents=chunk)["documents"])
                    bar.update(len(chunk))
            writer.document_store.save()
            report.passages = len(passages)
            manifest["models"] = {
                **(manifest.get("models") or {}),
                "embedder": embedder,
                "embedder_precision": embedder_precision(pipe),
            }
            manifest["reembedded"] = [
                *manifest.get("reembedded", []),
                {"from": report.previous_embedder, "to": embedder, "passages": report.passages},
            ]
            write_json(tmp / "manifest.json", manifest)
    return report
