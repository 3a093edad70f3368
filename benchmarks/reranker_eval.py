"""Re-rankers side by side on the candidates the `qa` graph gives them: SQuAD dev part A questions,
the hybrid graph's fused top 20 paragraphs, the gold paragraph's rank before and after re-ranking.

    python benchmarks/reranker_eval.py --model quick=~/.cache/odqa/models/reranker \
        --model base=~/.cache/odqa/models/reranker-base [--questions 200] [--candidates 20]

Candidates are computed once and shared by every model, so the comparison is paired. Each model is
loaded as Haystack's ``SentenceTransformersSimilarityRanker`` loads it (sentence-transformers
``CrossEncoder``, pairs truncated to 256 tokens as in ``qa.yaml``). Rows "+ fusion RRF (w)" fuse the
fusion order with the model's order by reciprocal rank fusion (k = 60, the model's list weighted w),
which needs no extra inference. Questions whose gold paragraph
is not among the candidates count as rank "not found" (reciprocal rank 0), as in trec_eval.
Writes ``benchmarks/results/reranker_eval.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import WORK, bench_env, data_dir, summarize_ms, write_results
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from odqa.eval.datasets import ensure_index, load_dataset
from odqa.eval.significance import randomization_test
from odqa.pipelines.env import open_runner

RRF_K = 60.0
RRF_WEIGHTS = (1.0, 2.0)


def reciprocal_ranks(ranks: list[int | None], k: int = 10) -> list[float]:
    """Per question 1/rank of the gold paragraph, 0 beyond ``k`` or when absent (RR@k)."""
    return [1.0 / r if r is not None and r <= k else 0.0 for r in ranks]


def ranks_metrics(ranks: list[int | None]) -> dict[str, float]:
    """MRR@10 and success@1/3/10 of the gold paragraph (``None`` = not among the candidates)."""
    out = {"MRR@10": float(np.mean(reciprocal_ranks(ranks)))}
    for k in (1, 3, 10):
        out[f"success@{k}"] = float(np.mean([r is not None and r <= k for r in ranks]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", required=True, help="name=path (repeat)")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--name", default="reranker_eval")
    args = ap.parse_args()
    console = Console(width=150)
    models = dict(m.split("=", 1) for m in args.model)

    dataset = load_dataset(data_dir() / "squad" / "dev-v1.1-part-a.json", max_queries=args.questions)
    index_dir = WORK / "squad-index"
    env = bench_env(index_dir)
    ensure_index(dataset, env)
    runner = open_runner(
        env,
        "hybrid",
        {"fusion": {"top_k": args.candidates}},
        warm_up=False,
    )
    candidates: list[tuple[str, list[tuple[str, str]], set[str]]] = []
    for q in tqdm(dataset.queries, desc="candidates", unit="q"):
        docs = runner.run(q.text).outputs["fusion"]["documents"]
        gold = {d for d, g in dataset.qrels.get(q.qid, {}).items() if g > 0}
        candidates.append((q.text, [(str(d.meta.get("doc_id", d.id)), d.content or "") for d in docs], gold))

    def gold_rank(order: list[str], gold: set[str]) -> int | None:
        return next((i + 1 for i, d in enumerate(order) if d in gold), None)

    per_model: dict[str, list[int | None]] = {
        "fusion (no re-ranking)": [gold_rank([d for d, _ in c], g) for _, c, g in candidates]
    }
    timings: dict[str, dict[str, float]] = {}
    from sentence_transformers import CrossEncoder

    for name, path in models.items():
        model = CrossEncoder(str(Path(path).expanduser()), max_length=args.max_length, device="cpu")
        ranks: list[int | None] = []
        times: list[float] = []
        for question, cands, gold in tqdm(candidates, desc=name, unit="q"):
            t0 = time.perf_counter()
            scores = model.predict(
                [(question, text) for _, text in cands], batch_size=32, show_progress_bar=False
            )
            times.append(time.perf_counter() - t0)
            by_model = np.argsort(-np.asarray(scores), kind="stable")
            ranks.append(gold_rank([cands[i][0] for i in by_model], gold))
            # reciprocal rank fusion of the fusion order and the model's order (qa.yaml's `rerank_fusion`)
            model_rank = np.empty(len(cands))
            model_rank[by_model] = np.arange(1, len(cands) + 1)
            for w in RRF_WEIGHTS:
                fused = [1.0 / (RRF_K + i + 1) + w / (RRF_K + model_rank[i]) for i in range(len(cands))]
                order = [cands[i][0] for i in np.argsort(-np.asarray(fused), kind="stable")]
                per_model.setdefault(f"{name} + fusion RRF (w={w:g})", []).append(gold_rank(order, gold))
        per_model[name] = ranks
        timings[name] = summarize_ms(times)

    baseline = "fusion (no re-ranking)"
    base_rr = reciprocal_ranks(per_model[baseline])
    table = Table(
        "system", "MRR@10", "success@1", "success@3", "success@10", "p vs fusion (MRR)", "ms / question"
    )
    figures: dict[str, dict[str, float]] = {}
    for name, ranks in per_model.items():
        m = ranks_metrics(ranks)
        p = randomization_test(reciprocal_ranks(ranks), base_rr) if name != baseline else float("nan")
        figures[name] = {
            **m,
            "p_vs_fusion": p,
            **({"p50_ms": timings[name]["p50_ms"]} if name in timings else {}),
        }
        table.add_row(
            name,
            *(f"{m[k]:.4f}" for k in ("MRR@10", "success@1", "success@3", "success@10")),
            "" if name == baseline else f"{p:.4f}",
            f"{timings[name]['p50_ms']:.0f}" if name in timings else "",
        )
    console.print(table)
    out = write_results(
        args.name,
        {
            "questions": len(candidates),
            "candidates": args.candidates,
            "max_length": args.max_length,
            "gold_in_candidates": float(np.mean([r is not None for r in per_model[baseline]])),
            "models": models,
            "figures": figures,
        },
    )
    console.print(f"results: {out}")


if __name__ == "__main__":
    main()
