"""``odqa tune``: choose a graph's parameters on judged queries (``fusion``: the hybrid's fusion)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from odqa.cli.common import EXIT_INDEX, SetOption, console, errors, open_graph, pipeline_env

tune_app = typer.Typer(no_args_is_help=True, help="Tune a graph's parameters on judged queries.")


@tune_app.command("fusion")
def fusion(
    dataset: Annotated[Path, typer.Option(help="BEIR directory (qrels) or SQuAD .json to tune on.")],
    out: Annotated[Path, typer.Option(help="Where to write the winner as a --set @FILE overrides file.")],
    split: Annotated[str, typer.Option(help="BEIR qrels split (qrels/<split>.tsv).")] = "train",
    max_queries: Annotated[int | None, typer.Option(help="Use the first N judged queries only.")] = None,
    index: Annotated[
        Path | None, typer.Option(help="Index of this dataset (built there when missing), as `odqa eval`.")
    ] = None,
    pipeline: Annotated[str, typer.Option(help="The hybrid graph whose fusion is tuned.")] = "hybrid",
    metric: Annotated[str, typer.Option(help="What the winner maximises on the tuning queries.")] = "nDCG@10",
    holdout: Annotated[
        float, typer.Option(help="Share of queries held out to test the winner against RRF k=60 (0: none).")
    ] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the tuning/test split.")] = 13,
    set_: SetOption = None,
) -> None:
    """Tune RRF k, weighted fusion (min-max / z-score) and each retriever's depth on judged queries
    against the graph's own fusion; write the winner as an overrides file for
    `ask/search/eval --set @FILE`."""
    from odqa.cli.evaluation import default_eval_index_root
    from odqa.eval.datasets import default_index_dir, ensure_index, load_dataset
    from odqa.eval.fusion_tuning import DEPTHS, collect_source_lists, graph_fusion_setting, tune_fusion

    with errors():
        data = load_dataset(dataset, split=split, max_queries=max_queries)
    index_dir = index or default_index_dir(default_eval_index_root(), data)
    env = pipeline_env(index_dir=index_dir)
    with errors(EXIT_INDEX):
        if ensure_index(data, env):
            console.print(f"indexed {data.path} into {index_dir}")
    with errors():
        baseline = graph_fusion_setting(pipeline, set_ or [])
    deep = max(*DEPTHS, baseline.depth_bm25, baseline.depth_dense)
    deepest = [f"bm25.top_k={deep}", f"dense.top_k={deep}", "fusion.top_k=null"]
    runner = open_graph(pipeline, [*(set_ or []), *deepest], env=env)
    with errors():
        lists = collect_source_lists(runner, data.queries)
        result = tune_fusion(
            lists, data.qrels, doc_level=True, metric=metric, holdout=holdout, seed=seed, baseline=baseline
        )

    top = Table("#", "setting", metric, title=f"{data.name}: {len(result.tune_qids)} tuning queries")
    ranked = result.ranked()
    for i, (setting, value) in enumerate(ranked[:10], 1):
        top.add_row(str(i), setting.label, f"{value:.4f}")
    base_rank = next(i for i, (s, _) in enumerate(ranked, 1) if s == result.baseline)
    top.add_row(
        str(base_rank), result.baseline.label + " (baseline)", f"{result.tune_means[result.baseline]:.4f}"
    )
    console.print(top)
    where = "held-out" if holdout > 0 else "same (no holdout: optimistic)"
    test = Table("metric", "baseline", "winner", "delta", "p (randomization)", "p (t-test)")
    test.title = (
        f"winner vs the graph's fusion ({result.baseline.label}) on {len(result.test_qids)} {where} queries"
    )
    for c in result.comparisons:
        test.add_row(
            c.metric,
            f"{result.test_means['baseline'][c.metric]:.4f}",
            f"{result.test_means['winner'][c.metric]:.4f}",
            f"{c.delta:+.4f}",
            f"{c.p_randomization:.3g}",
            f"{c.p_ttest:.3g}",
        )
    console.print(test)
    main = next(c for c in result.comparisons if c.metric == metric)
    header = (
        f"# odqa tune fusion --dataset {data.path} --split {split}: {result.winner.label}\n"
        f"# {metric} on {len(result.test_qids)} {where} queries: "
        f"{main.mean_b:.4f} ({result.baseline.label}) -> "
        f"{main.mean_a:.4f} (p {main.p_randomization:.3g}). Use: odqa ask --set @{out} ...\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + yaml.safe_dump(result.winner.overrides(), sort_keys=False), encoding="utf-8")
    console.print(f"wrote {out} (use it with --set @{out})")
