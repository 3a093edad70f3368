"""`odqa index --reembed`: new vectors from another embedder, BM25 untouched, the manifest names
the new embedder, and a failed re-embedding leaves the old index whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from haystack import Document

from odqa.models import ModelRegistry
from odqa.pipelines.env import IndexMismatchError, IndexNotFoundError, PipelineEnv, open_runner
from odqa.pipelines.indexing import read_manifest, reembed_index


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_reembed_swaps_the_vectors_and_keeps_bm25(small_index: Path, small_base: str, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    bm25_before = _tree(index / "bm25")
    old_embedder = read_manifest(index)["models"]["embedder"]
    question = "What is the largest city of Poland?"
    stock = ModelRegistry(tmp_path / "m")
    before = open_runner(PipelineEnv(index_dir=index, registry=stock), "dense").run(question).final_documents

    other = ModelRegistry(tmp_path / "m", overrides={"embedder": small_base})
    report = reembed_index(env=PipelineEnv(index_dir=index, registry=other), progress=False)
    assert report.previous_embedder == old_embedder and report.embedder == small_base
    assert report.passages == read_manifest(index)["passages"]
    manifest = read_manifest(index)
    assert manifest["models"]["embedder"] == small_base
    assert manifest["reembedded"][-1] == {"from": old_embedder, "to": small_base, "passages": report.passages}
    assert _tree(index / "bm25") == bm25_before  # the BM25 side is not touched

    # the index now answers with the new embedder, and refuses the old one by name
    after = open_runner(PipelineEnv(index_dir=index, registry=other), "dense").run(question).final_documents
    assert {d.id for d in after} <= {d.id for d in _all(index)} and after
    assert [d.score for d in after] != [d.score for d in before]
    with pytest.raises(IndexMismatchError, match="embedder"):
        open_runner(PipelineEnv(index_dir=index, registry=stock), "dense")
    # the same passages, with the text and meta they had
    assert {(d.id, d.content, d.meta.get("doc_id")) for d in _all(index)} == {
        (d.id, d.content, d.meta.get("doc_id")) for d in _all(small_index)
    }
    # vectors are the new model's embedding of "title\ntext", as the indexing graph writes them
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(small_base, device="cpu")
    doc = after[0]
    passage = model.encode(f"{doc.meta['title']}\n{doc.content}", normalize_embeddings=True)
    query = model.encode(question, normalize_embeddings=True)
    assert float(np.dot(passage, query)) == pytest.approx(doc.score, abs=1e-3)


def _all(index: Path) -> list[Document]:
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

    store = OdqaFAISSDocumentStore(path=str(index / "faiss"))
    store.warm_up()
    return store.filter_documents()


def test_a_failed_reembed_keeps_the_old_index(small_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "idx"
    shutil.copytree(small_index, index)
    before = _tree(index)
    broken = ModelRegistry(tmp_path / "m", overrides={"embedder": str(tmp_path / "not-a-model")})
    (tmp_path / "not-a-model").mkdir()
    with pytest.raises(Exception):  # noqa: B017 - whatever the loader raises, the index must survive
        reembed_index(env=PipelineEnv(index_dir=index, registry=broken), progress=False)
    assert _tree(index) == before
    assert not list(tmp_path.glob(".idx.tmp-*"))  # no temporary copy left behind
    with pytest.raises(IndexNotFoundError):
        reembed_index(env=PipelineEnv(index_dir=tmp_path / "none", registry=broken), progress=False)
