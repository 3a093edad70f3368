"""Fusion tuning: the grid, the held-out test, the overrides file, and `odqa tune fusion` on a real index."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from haystack import Document
from typer.testing import CliRunner

from odqa.cli import app
from odqa.eval.fusion_tuning import (
    FusionSetting,
    default_grid,
    graph_fusion_setting,
    score_setting,
    tune_fusion,
)
from odqa.pipelines.loader import PipelineError, parse_overrides


def _doc(i: int, name: str, score: float) -> Document:
    return Document(id=f"q{i}-{name}", content="x", meta={"doc_id": f"q{i}-{name}"}, score=score)


def _lists(n: int = 40) -> tuple[dict[str, dict[str, list[Document]]], dict[str, dict[str, int]]]:
    """Queries whose relevant document only dense finds (1st, with a clear score margin), while ten
    wrong documents are in both lists: RRF k=60 with equal weights ranks the relevant one 11th;
    weighted fusion leaning on dense puts it first."""
    lists, qrels = {}, {}
    for i in range(n):
        wrong = [f"x{j}" for j in range(10)]
        bm25 = [_doc(i, w, 30.0 - j) for j, w in enumerate(wrong)]
        dense = [_doc(i, "rel", 0.9)] + [_doc(i, w, 0.5 - j / 100) for j, w in enumerate(wrong)]
        lists[f"q{i}"] = {"bm25": bm25, "dense": dense}
        qrels[f"q{i}"] = {f"q{i}-rel": 1}
    return lists, qrels


def test_the_grid_covers_rrf_weighted_and_depths() -> None:
    grid = default_grid()
    assert len(grid) == len(set(grid)) == 324
    assert {s.mode for s in grid} == {"rrf", "weighted"}
    assert {s.normalization for s in grid if s.mode == "weighted"} == {"minmax", "zscore"}
    assert {(s.depth_bm25, s.depth_dense) for s in grid} == {
        (a, b) for a in (20, 50, 100) for b in (20, 50, 100)
    }
    assert FusionSetting() in grid  # the baseline: RRF k=60, equal weights, 50/50


def test_tuning_finds_the_better_fusion_and_tests_it_on_held_out_queries() -> None:
    lists, qrels = _lists()
    base = score_setting(FusionSetting(), lists, qrels, ["nDCG@10"], doc_level=True)
    assert sum(v["nDCG@10"] for v in base.values()) == 0.0  # the relevant doc ranks 11th
    result = tune_fusion(lists, qrels, doc_level=True, holdout=0.5, seed=1, progress=False)
    assert set(result.tune_qids).isdisjoint(result.test_qids)
    assert len(result.tune_qids) + len(result.test_qids) == 40
    assert result.tune_means[result.winner] == pytest.approx(1.0)
    main = next(c for c in result.comparisons if c.metric == "nDCG@10")
    assert main.n == 20 and main.delta > 0.4 and main.p_randomization < 0.01
    overrides = result.winner.overrides()
    assert set(overrides) == {"fusion", "bm25", "dense"} and "top_k" not in overrides["fusion"]


def test_overrides_file(tmp_path: Path) -> None:
    good = tmp_path / "f.yaml"
    good.write_text(yaml.safe_dump(FusionSetting(mode="weighted", dense_weight=2.0).overrides()))
    got = parse_overrides([f"@{good}", "bm25.top_k=7"])
    assert got["fusion"]["mode"] == "weighted" and got["fusion"]["weights"] == {"bm25": 1.0, "dense": 2.0}
    assert got["bm25"] == {"top_k": 7}  # later items win
    with pytest.raises(PipelineError, match="cannot read"):
        parse_overrides([f"@{tmp_path / 'missing.yaml'}"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(PipelineError, match="expected a mapping"):
        parse_overrides([f"@{bad}"])
    bad.write_text("fusion: {rrf_k: [unclosed\n")
    with pytest.raises(PipelineError, match="not a YAML file"):
        parse_overrides([f"@{bad}"])


def test_tune_fusion_command_writes_a_file_that_eval_accepts(
    scifact_index: Path, mini_scifact: Path, tmp_path: Path
) -> None:
    cli = CliRunner()
    out = tmp_path / "fusion.yaml"
    common = ["--dataset", str(mini_scifact), "--split", "train", "--index", str(scifact_index)]
    res = cli.invoke(app, ["--models-dir", str(tmp_path / "m"), "tune", "fusion", *common, "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "(baseline)" in text and "winner vs the graph's fusion" in text
    written = yaml.safe_load(out.read_text())
    assert set(written) == {"fusion", "bm25", "dense"}
    assert out.read_text().startswith("# odqa tune fusion")
    res = cli.invoke(
        app,
        [
            "--models-dir",
            str(tmp_path / "m"),
            "eval",
            "--pipeline",
            "hybrid",
            *common,
            "--set",
            f"@{out}",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output


def test_the_baseline_is_the_graphs_own_fusion() -> None:
    assert graph_fusion_setting("hybrid") == FusionSetting(depth_bm25=100, depth_dense=100)
    tuned = graph_fusion_setting(
        "hybrid", ["fusion.rrf_k=10", "dense.top_k=20", "fusion.weights={bm25: 1, dense: 2}"]
    )
    assert (tuned.rrf_k, tuned.depth_dense, tuned.dense_weight) == (10.0, 20, 2.0)
    with pytest.raises(ValueError, match="tune the fusion on its retrieval graph"):
        graph_fusion_setting("qa")
    with pytest.raises(ValueError, match="has no component"):
        graph_fusion_setting("bm25")
