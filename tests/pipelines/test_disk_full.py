"""Disk full during a save: `odqa index --append` and a fresh `odqa index` run with a capped file
size (RLIMIT_FSIZE, the way a full disk fails a write: EFBIG/ENOSPC from write()). The command
fails with odqa's one-line error, the index already there is intact, and a rerun with room completes."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv


def _jsonl(path: Path, prefix: str, n: int) -> Path:
    rows = [
        {"id": f"{prefix}{i}", "text": f"Document {prefix}{i} is about topic {i % 7} and number {i}."}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _odqa(tmp: Path, *args: str, max_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def cap() -> None:  # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))  # type: ignore[arg-type]

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "odqa.cli",
            "--index-dir",
            str(tmp / "index"),
            "--models-dir",
            str(tmp / "m"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=cap if max_file_bytes is not None else None,
        env={**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"},
    )


def _ids(tmp: Path) -> tuple[set[str], set[str]]:
    from odqa.components.stores.bm25_document_store import EmbeddedBM25DocumentStore
    from odqa.components.stores.faiss_document_store import OdqaFAISSDocumentStore

    index = tmp / "index"
    assert PipelineEnv(index_dir=index, registry=ModelRegistry(tmp / "m")).has_index
    bm25 = EmbeddedBM25DocumentStore(path=str(index / "bm25"))
    dense = OdqaFAISSDocumentStore(path=str(index / "faiss"))
    return {str(d.meta["doc_id"]) for d in bm25.filter_documents()}, {
        str(d.meta["doc_id"]) for d in dense.filter_documents()
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("append", "cap_kb", "where"),
    [(True, 64, "bm25_writer"), (False, 64, "bm25_writer"), (False, 200, "faiss_writer")],
    ids=["append", "fresh", "fresh-faiss"],
)
def test_a_full_disk_fails_the_save_cleanly_and_loses_nothing(
    tmp_path: Path, append: bool, cap_kb: int, where: str
) -> None:
    old = _jsonl(tmp_path / "old.jsonl", "a", 5)
    done = _odqa(tmp_path, "index", str(old))
    assert done.returncode == 0, done.stderr
    before = _ids(tmp_path)
    assert before[0] == before[1] == {f"a{i}" for i in range(5)}

    # 300 passages: BM25's documents.jsonl is ~70 kB, the FAISS file (300 x 384 floats) ~460 kB
    new = _jsonl(tmp_path / "new.jsonl", "b", 300)
    args = ["index", str(new), *(["--append"] if append else [])]
    failed = _odqa(tmp_path, *args, max_file_bytes=cap_kb * 1024)
    assert failed.returncode == 1
    said = " ".join(failed.stderr.split())  # rich wraps long lines
    assert "error: no room on the disk" in said and "File too large" in said, failed.stderr[-2000:]
    assert f"(in {where})" in said
    assert "Traceback" not in failed.stderr
    assert _ids(tmp_path) == before  # nothing already indexed is lost
    assert not [p for p in (tmp_path / "index").parent.iterdir() if ".tmp" in p.name or ".new" in p.name]

    again = _odqa(tmp_path, *args)
    assert again.returncode == 0, again.stderr
    expected = {f"b{i}" for i in range(300)} | ({f"a{i}" for i in range(5)} if append else set())
    assert _ids(tmp_path) == (expected, expected)
