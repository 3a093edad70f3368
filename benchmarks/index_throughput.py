"""Indexing throughput: `odqa index` against the raw encoder on the same passages, side by side.

    python benchmarks/index_throughput.py [--passages 600] [--repeats 2] [--int8] [--onnx]
        [--name index_throughput]

Encoding is the cost of indexing, so `odqa index` is measured against what the embedder alone does
with the same texts: the first ``--passages`` paragraphs of SQuAD dev part A, indexed whole (one
passage per paragraph, as the evaluation indexes are), embedded as ``title + "\\n" + text`` like the
indexing graph does. Per repeat, in alternating order so load changes hit both:

* **raw**: ``SentenceTransformer.encode`` of the texts, batch 32 (the indexing graph's batch size),
  model loaded beforehand (not timed);
* **odqa**: ``index_collection`` of a SQuAD file holding those paragraphs into a fresh directory:
  reading, BM25 indexing, embedding, the FAISS store, the manifest, the atomic swap; the embedder is
  loaded inside (its load time is reported apart and taken out of the rate).

With ``--int8`` the same two again with the encoder's linear layers in int8
(:func:`odqa.utils.quantization.quantize_int8`; for odqa, ``--set doc_embedder.model_precision=int8``),
and every rate is also compared with the raw fp32 encoder (target, issue #14: int8 indexing >= 2x).
With ``--onnx`` the same two with the fp32 transformer on ONNX Runtime
(:class:`odqa.utils.onnx_runtime.OrtSentenceEncoder`; for odqa, ``--set doc_embedder.backend=onnx``).
The fp32 rows always run PyTorch (``doc_embedder.backend=torch``), whatever the graph's default.

Prints passages/s and ratios (target: odqa >= 0.9x raw), plus the machine's reference speed;
writes ``benchmarks/results/<name>.json``.
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
from odqa.utils.onnx_runtime import OrtSentenceEncoder, clear_onnx_backends
from odqa.utils.quantization import clear_int8_backends, quantize_int8

#: the indexing graph's embedder settings of each variant
VARIANTS: dict[str, dict[str, Any]] = {
    "fp32": {"backend": "torch"},
    "int8": {"model_precision": "int8"},
    "onnx": {"backend": "onnx"},
}


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


def forget_loaded_embedders() -> None:
    """Empty the caches that keep embedders loaded across graphs in one process (Haystack's backend
    factory, a private class attribute; odqa's int8 and ONNX copies): without this every run after
    the first skips the model load that the rate then takes out a second time."""
    from haystack_integrations.components.embedders.sentence_transformers.embedding_backend import backend

    backend._SentenceTransformersEmbeddingBackendFactory._instances.clear()
    clear_int8_backends()
    clear_onnx_backends()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--int8", action="store_true", help="also the int8 encoder and int8 indexing")
    ap.add_argument("--onnx", action="store_true", help="also the ONNX Runtime encoder and indexing")
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
    models: dict[str, Any] = {"fp32": SentenceTransformer(embedder, device="cpu")}
    if args.int8:
        models["int8"] = quantize_int8(SentenceTransformer(embedder, device="cpu"))
    if args.onnx:
        torch_model = SentenceTransformer(embedder, device="cpu")
        models["onnx"] = OrtSentenceEncoder.from_sentence_transformer(torch_model)
    for model in models.values():
        model.encode(texts[:32], batch_size=32)  # warm-up
    systems = [(kind, precision) for precision in models for kind in ("raw", "odqa")]
    seconds: dict[tuple[str, str], list[float]] = {s: [] for s in systems}
    load_s: list[float] = []
    passages = 0
    for r in range(args.repeats):
        order = systems[r % len(systems) :] + systems[: r % len(systems)]  # rotate: load hits all alike
        for kind, precision in order if r % 2 == 0 else order[::-1]:
            if kind == "raw":
                t0 = time.perf_counter()
                models[precision].encode(texts, batch_size=32, normalize_embeddings=True)
                seconds[kind, precision].append(time.perf_counter() - t0)
                continue
            tmp = Path(tempfile.mkdtemp(dir=WORK, prefix="throughput-"))
            try:
                forget_loaded_embedders()  # each odqa run loads its embedder, as a user's would
                t0 = time.perf_counter()
                SentenceTransformer(embedder, device="cpu")  # what index_collection's load costs
                load_s.append(time.perf_counter() - t0)
                overrides = {"splitter": {"unit": "none"}, "doc_embedder": dict(VARIANTS[precision])}
                t0 = time.perf_counter()
                report = index_collection(
                    path, env=env.replace(index_dir=tmp / "index"), overrides=overrides, progress=False
                )
                seconds[kind, precision].append(time.perf_counter() - t0)
                passages = report.passages
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    load = min(load_s)
    raw_rate = len(texts) / min(seconds["raw", "fp32"])
    rates: dict[str, float] = {}
    table = Table("system", "passages", "best seconds", "passages/s", "vs raw fp32", "vs raw, same precision")
    for precision in models:
        same_raw = len(texts) / min(seconds["raw", precision])
        rows = [
            (f"raw encoder {precision}", len(texts), min(seconds["raw", precision])),
            (
                f"odqa index {precision} (model load taken out)",
                passages,
                min(seconds["odqa", precision]) - load,
            ),
            (f"odqa index {precision} (as a user waits)", passages, min(seconds["odqa", precision])),
        ]
        for label, n, secs in rows:
            rates[label] = n / secs
            table.add_row(
                label, str(n), f"{secs:.1f}", f"{n / secs:.1f}", f"{n / secs / raw_rate:.2f}x",
                f"{n / secs / same_raw:.2f}x",
            )  # fmt: skip
    console.print(table)
    odqa_rate = rates["odqa index fp32 (model load taken out)"]
    results: dict[str, Any] = {
        "passages": passages,
        "texts": len(texts),
        "embedder": embedder,
        "seconds": {f"{k}_{p}": [round(x, 2) for x in v] for (k, p), v in seconds.items()},
        "model_load_seconds": [round(x, 2) for x in load_s],
        "passages_per_s": {k: round(v, 2) for k, v in rates.items()},
        "raw_passages_per_s": round(raw_rate, 2),
        "odqa_passages_per_s": round(odqa_rate, 2),
        "odqa_passages_per_s_with_load": round(rates["odqa index fp32 (as a user waits)"], 2),
        "ratio": round(odqa_rate / raw_rate, 3),
        "target_ratio": 0.9,
        "reference_speed": ref.as_dict(),
    }
    if args.int8:
        int8_rate = rates["odqa index int8 (model load taken out)"]
        results["int8_ratio_vs_raw_fp32"] = round(int8_rate / raw_rate, 3)
        results["int8_target_ratio"] = 2.0
    if args.onnx:
        onnx_rate = rates["odqa index onnx (model load taken out)"]
        results["onnx_ratio_vs_raw_fp32"] = round(onnx_rate / raw_rate, 3)
    console.print(f"results: {write_results(args.name, results)}")


if __name__ == "__main__":
    main()
