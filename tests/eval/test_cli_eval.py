"""The evaluation commands of the CLI, run in-process with typer's test runner on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from odqa.cli import app
from odqa.eval.metrics import evaluate
from odqa.eval.trec import read_qrels, read_run

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
EXAMPLE = SEEDS / "ranked_list_example"
PAIRED = SEEDS / "paired_significance"

cli = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    """Exit code and output (stdout and stderr together), whitespace collapsed (rich wraps lines)."""
    result = cli.invoke(app, [str(a) for a in args])
    return result.exit_code, " ".join(result.output.split())


def invoke_json(*args: str | Path) -> tuple[int, object]:
    """Exit code and the JSON printed on stdout (progress bars go to stderr)."""
    result = cli.invoke(app, [str(a) for a in args])
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else result.output


def test_evaluate_table_and_json() -> None:
    code, out = invoke(
        "evaluate",
        "--qrels",
        EXAMPLE / "qrels.txt",
        "--run",
        EXAMPLE / "run.txt",
        "--metrics",
        "P@5,R@10,MAP,nDCG@10,AP_retrieved",
    )
    assert code == 0
    for figure in ("0.6000", "0.5556", "0.3954", "0.6014", "0.7117"):  # seeds/ranked_list_example/README.md
        assert figure in out
    code, out = invoke(
        "evaluate",
        "--qrels",
        EXAMPLE / "qrels.txt",
        "--run",
        EXAMPLE / "run.txt",
        "--metrics",
        "P@5,MAP",
        "--json",
        "--per-query",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["queries"] == 1
    assert payload["metrics"] == pytest.approx({"P@5": 0.6, "MAP": 3.5583333333 / 9})
    assert payload["per_query"]["Q1"]["P@5"] == 0.6


def test_evaluate_missing_as_zero_and_threshold(tmp_path: Path) -> None:
    qrels = tmp_path / "qrels.txt"
    qrels.write_text((EXAMPLE / "qrels.txt").read_text(encoding="utf-8") + "Q2 0 D99 2\n", encoding="utf-8")
    code, out = invoke(
        "evaluate", "--qrels", qrels, "--run", EXAMPLE / "run.txt", "--metrics", "P@5", "--json"
    )
    assert code == 0 and json.loads(out) == {"metrics": {"P@5": 0.6}, "queries": 1, "missing": 1}
    code, out = invoke(
        "evaluate",
        "--qrels",
        qrels,
        "--run",
        EXAMPLE / "run.txt",
        "--metrics",
        "P@5",
        "--json",
        "--missing-as-zero",
    )
    assert code == 0 and json.loads(out)["metrics"]["P@5"] == pytest.approx(0.3)
    code, out = invoke(
        "evaluate",
        "--qrels",
        qrels,
        "--run",
        EXAMPLE / "run.txt",
        "--metrics",
        "P@5",
        "--json",
        "--rel-threshold",
        "2",
    )
    assert code == 0 and json.loads(out)["metrics"]["P@5"] == 0.0


def test_evaluate_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.run"
    bad.write_text("Q1 Q0 D01 1 10.0 x\nQ1 Q0 D02 two 9.0 x\n", encoding="utf-8")
    code, out = invoke("evaluate", "--qrels", EXAMPLE / "qrels.txt", "--run", bad)
    assert code == 1 and "bad.run:2" in out and "rank 'two'" in out
    bad_qrels = tmp_path / "bad.qrels"
    bad_qrels.write_text("Q1 0 D01 1\nQ1 0 D02 x\n", encoding="utf-8")
    code, out = invoke("evaluate", "--qrels", bad_qrels, "--run", EXAMPLE / "run.txt")
    assert code == 1 and "bad.qrels:2" in out
    code, out = invoke("evaluate", "--qrels", EXAMPLE / "qrels.txt", "--run", tmp_path / "none.run")
    assert code == 1 and "no such file" in out
    code, out = invoke(
        "evaluate", "--qrels", EXAMPLE / "qrels.txt", "--run", EXAMPLE / "run.txt", "--metrics", "P@0"
    )
    assert code == 1 and "unknown metric" in out


def test_compare_worked_example() -> None:
    code, out = invoke(
        "compare",
        "--qrels",
        PAIRED / "qrels.txt",
        "--run",
        PAIRED / "run_b.txt",
        "--run",
        PAIRED / "run_a.txt",
        "--metrics",
        "MRR,P@1",
        "--json",
    )
    assert code == 0
    comps = json.loads(out)["comparisons"]
    assert [c["metric"] for c in comps] == ["MRR", "P@1"]
    assert comps[0]["delta"] == pytest.approx(0.25)
    assert comps[0]["p_randomization"] == pytest.approx(74 / 256)
    assert comps[0]["p_ttest"] == pytest.approx(0.1704707, abs=1e-7)
    code, out = invoke("compare", "--qrels", PAIRED / "qrels.txt", "--run", PAIRED / "run_a.txt")
    assert code == 1 and "exactly two runs" in out


def test_search_then_evaluate(scifact_index: Path, mini_scifact: Path, tmp_path: Path) -> None:
    """`odqa evaluate` reads the TREC files that `odqa search` writes."""
    run = tmp_path / "bm25.trec"
    code, out = invoke(
        "--index-dir",
        scifact_index,
        "--models-dir",
        tmp_path / "models",
        "search",
        "--queries",
        mini_scifact / "queries.jsonl",
        "--run",
        run,
        "--pipeline",
        "bm25",
    )
    assert code == 0, out
    qrels = mini_scifact / "qrels" / "train.tsv"
    code, out = invoke("evaluate", "--qrels", qrels, "--run", run, "--metrics", "nDCG@10,R@100,MRR", "--json")
    assert code == 0, out
    payload = json.loads(out)
    expected = evaluate(read_qrels(qrels), read_run(run), ["nDCG@10", "R@100", "MRR"])
    assert payload == {"metrics": pytest.approx(expected.means), "queries": 12}
    assert payload["metrics"]["R@100"] > 0.5


def test_eval_and_report(scifact_index: Path, mini_scifact: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    common: list[str | Path] = [
        "--dataset",
        mini_scifact,
        "--split",
        "train",
        "--index",
        scifact_index,
        "--out",
        out_dir,
    ]
    code, payload = invoke_json(
        "--models-dir", tmp_path / "m", "eval", "--pipeline", "bm25", *common, "--json"
    )
    assert code == 0, payload
    assert isinstance(payload, dict)
    assert payload["kind"] == "odqa-eval-results" and payload["final_stage"] == "bm25"
    assert "per_query" not in payload["stages"][0] and payload["dataset"]["queries"] == 12
    code, out = invoke(
        "--models-dir", tmp_path / "m", "eval", "--pipeline", "hybrid", *common, "--max-queries", "6"
    )
    assert code == 0, out
    assert "funnel" in out and "fusion" in out
    results = sorted(out_dir.glob("*.json"))
    assert [p.name for p in results] == ["mini-scifact.bm25.json", "mini-scifact.hybrid.json"]
    assert (out_dir / "runs" / "mini-scifact.hybrid.fusion.trec").is_file()
    report = tmp_path / "report.html"
    code, out = invoke(
        "report", "--results", results[0], "--results", results[1], "--out", report, "--permutations", "500"
    )
    assert code == 0, out
    assert "mini-scifact" in report.read_text(encoding="utf-8")


def test_eval_refuses_an_index_of_another_collection(
    scifact_index: Path, mini_squad: Path, tmp_path: Path
) -> None:
    code, out = invoke(
        "--models-dir",
        tmp_path / "m",
        "eval",
        "--pipeline",
        "bm25",
        "--dataset",
        mini_squad,
        "--index",
        scifact_index,
    )
    assert code == 4 and "another collection" in out
    code, out = invoke("eval", "--pipeline", "bm25", "--dataset", tmp_path / "nowhere")
    assert code == 1 and "not found" in out


def test_eval_set_and_name_make_an_ablation(scifact_index: Path, mini_scifact: Path, tmp_path: Path) -> None:
    common: list[str | Path] = ["--dataset", mini_scifact, "--split", "train", "--index", scifact_index]
    args = ["--models-dir", tmp_path / "m", "eval", "--pipeline", "bm25", *common, "--json"]
    code, full = invoke_json(*args)
    assert code == 0, full
    code, short = invoke_json(*args, "--set", "bm25.top_k=2", "--name", "bm25-top2")
    assert code == 0, short
    assert isinstance(full, dict) and isinstance(short, dict)
    assert short["pipeline"] == "bm25-top2"
    assert short["stages"][0]["depth"] <= 2 < full["stages"][0]["depth"]
    code, out = invoke(*args, "--set", "bm25.nope=1")
    assert code == 1 and "nope" in out


def test_eval_queries_dev_is_the_held_out_half(
    scifact_index: Path, mini_scifact: Path, tmp_path: Path
) -> None:
    from odqa.eval.splits import query_split

    common: list[str | Path] = ["--dataset", mini_scifact, "--split", "train", "--index", scifact_index]
    args: list[str | Path] = ["--models-dir", tmp_path / "m", "eval", "--pipeline", "bm25", *common]
    sizes = {}
    for part in ("train", "dev"):
        code, payload = invoke_json(*args, "--queries", part, "--json")
        assert code == 0, payload
        assert isinstance(payload, dict) and payload["dataset"]["subset"] == part
        sizes[part] = payload["dataset"]["queries"]
    assert sizes == {"train": 6, "dev": 6}
    code, out = invoke(*args, "--queries", "dev", "--out", tmp_path / "o")
    assert code == 0, out
    ran = {line.split()[0] for line in (tmp_path / "o" / "runs" / "mini-scifact.bm25.bm25.trec").open()}
    qrels = {
        line.split("\t")[0] for line in (mini_scifact / "qrels" / "train.tsv").read_text().splitlines()[1:]
    }
    assert ran == set(query_split(qrels)[1])
    code, out = invoke(*args, "--queries", "half")
    assert code != 0 and "half" in out
