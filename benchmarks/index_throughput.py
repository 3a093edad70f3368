"""Indexing throughput: `odqa index` against the raw encoder on the same passages, side by side.

    python benchmarks/index_throughput.py [--passages 600] [--repeats 2] [--name index_throughput]

Encoding is the cost of indexing, so `odqa index` is measured against what the embedder alone does
with the same texts: the first ``--passages`` paragraphs of SQuAD dev part A, indexed whole (one
passage per paragraph, as the evaluation indexes are), embedded as ``title + "\\n" + text`` like the
indexing graph does. Per repeat, in alternating order so load changes hit both:

* **raw**: ``SentenceTransformer.encode`` of the texts, batch 32 (the indexing graph's batch size),
  model loaded beforehand (not timed);
* **odqa**: ``index_collection`` of a SQuAD file holding those paragraphs into a fresh directory:
  reading, BM25 indexing, embedding, the FAISS store, the manifest, the atomic swap; the embedder is
  loaded inside (its load time is reported apart and taken out of the rate).

Prints passages/s of both and their ratio (target, issue #14: odqa >= 0.9x raw), plus the machine's
reference speed; writes ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import WORK, bench_env, data_dir, write_results
from rich.console import Console
from rich.table import Table

from odqa.pipelines.indexing import index_collection


def subset_file(n: int, out_dir: Path) -> tuple[Path, list[str]]:
    """A SQuAD file with the first ``n`` paragraphs of dev part A, and their embedded texts."""
    full = json.loads((data_dir() / "squad" / "dev-v1.1-part-a.json").read_text(encoding="utf-8"))
    data, texts, left = [], [], n
    for article in full["data"]:
        if left <= 0:
            break
        paragraphs = article["paragraphs"][:left]
        left -= len(paragraphs)
        data.append({"title": article["title"], "paragraphs": paragraphs})
        texts += [f"{article['title'].replace('_', ' ')}\n{p['context']}" for p in paragraphs]
    path = out_dir / f"squad-dev-a-first{n}.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path, texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--name", default="index_throughput")
    args = ap.parse_args()
    console = Console()
    from sentence_transformers import SentenceTransformer

    from odqa.train.speed import reference_speed

    ref = reference_speed()
    console.print(f"reference speed: {ref.summary()}")
    WORK.mkdir(parents=True, exist_ok=True)
    path, texts = subset_file(args.passages, WORK)
    env = bench_env(WORK / "throughput-index")
    embedder = env.registry.resolve("embedder").require().location
    model = SentenceTransformer(embedder, device="cpu")
    model.encode(texts[:32], batch_size=32)  # warm-up
    raw_s: list[float] = []
    odqa_s: list[float] = []
    load_s: list[float] = []
    passages = 0
    for r in range(args.repeats):
        for system in ("raw", "odqa") if r % 2 == 0 else ("odqa", "raw"):
            if system == "raw":
                t0 = time.perf_counter()
                model.encode(texts, batch_size=32, normalize_embeddings=True)
                raw_s.append(time.perf_counter() - t0)
                continue
            tmp = Path(tempfile.mkdtemp(dir=WORK, prefix="throughput-"))
            try:
                t0 = time.perf_counter()
                SentenceTransformer(embedder, device="cpu")  # what index_collection's load costs
                load_s.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                report = index_collection(
                    path,
                    env=env.replace(index_dir=tmp / "index"),
                    overrides={"splitter": {"unit": "none"}},
                    progress=False,
                )
                odqa_s.append(time.perf_counter() - t0)
                passages = report.passages
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    raw_rate = len(texts) / min(raw_s)
    load = min(load_s)
    odqa_rate = passages / (min(odqa_s) - load)
    odqa_rate_with_load = passages / min(odqa_s)
    table = Table("system", "passages", "best seconds", "passages/s", "vs raw")
    table.add_row("raw encoder", str(len(texts)), f"{min(raw_s):.1f}", f"{raw_rate:.1f}", "1.00x")
    table.add_row(
        "odqa index (model load taken out)",
        str(passages),
        f"{min(odqa_s) - load:.1f}",
        f"{odqa_rate:.1f}",
        f"{odqa_rate / raw_rate:.2f}x",
    )
    table.add_row(
        "odqa index (as a user waits)",
        str(passages),
        f"{min(odqa_s):.1f}",
        f"{odqa_rate_with_load:.1f}",
        f"{odqa_rate_with_load / raw_rate:.2f}x",
    )
    console.print(table)
    results: dict[str, Any] = {
        "passages": passages,
        "texts": len(texts),
        "embedder": embedder,
        "raw_seconds": [round(x, 2) for x in raw_s],
        "odqa_seconds": [round(x, 2) for x in odqa_s],
        "model_load_seconds": [round(x, 2) for x in load_s],
        "raw_passages_per_s": round(raw_rate, 2),
        "odqa_passages_per_s": round(odqa_rate, 2),
        "odqa_passages_per_s_with_load": round(odqa_rate_with_load, 2),
        "ratio": round(odqa_rate / raw_rate, 3),
        "target_ratio": 0.9,
        "reference_speed": ref.as_dict(),
    }
    console.print(f"results: {write_results(args.name, results)}")


if __name__ == "__main__":
    main()
