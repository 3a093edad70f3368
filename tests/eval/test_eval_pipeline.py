"""Per-stage evaluation of real graphs on real (small) data, cross-checked with pytrec_eval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.eval.datasets import EvalDataset
from odqa.eval.metrics import evaluate
from odqa.eval.pipeline_eval import CURVE_KS, PipelineEvaluation
from odqa.eval.qa import answer_in_passages
from odqa.eval.trec import read_run
from odqa.models import ModelRegistry
from odqa.pipelines.env import PipelineEnv, open_runner

pytrec_eval = pytest.importorskip("pytrec_eval")


def test_every_stage_is_evaluated(scifact_hybrid: PipelineEvaluation) -> None:
    assert [s.name for s in scifact_hybrid.stages] == ["bm25", "dense", "fusion"]
    assert scifact_hybrid.final_stage.name == "fusion"
    for stage in scifact_hybrid.stages:
        assert stage.kind == "retrieval" and stage.depth > 50
        assert set(stage.per_query) == {q.qid for q in scifact_hybrid.dataset.queries}
        assert 0 < stage.means["nDCG@10"] <= 1
        recall = [stage.curves["R"][k] for k in CURVE_KS]
        assert recall == sorted(recall)  # R@k never decreases with k
        assert stage.funnel["found"] >= stage.means["success@20"]
    assert set(scifact_hybrid.latency_ms) >= {"total", "bm25", "dense", "fusion", "query_embedder"}


def test_stage_metrics_agree_with_pytrec_eval_on_the_written_runs(
    scifact_hybrid: PipelineEvaluation, tmp_path: Path
) -> None:
    path = scifact_hybrid.write(tmp_path)
    results = json.loads(path.read_text(encoding="utf-8"))
    qrels = scifact_hybrid.dataset.qrels
    for stage in results["stages"]:
        run = read_run(results["run_files"][stage["name"]])
        assert run == scifact_hybrid.runs[stage["name"]]
        measures = pytrec_eval.RelevanceEvaluator(
            qrels, {"map", "ndcg_cut.10", "P.5", "recall.100"}
        ).evaluate(run)
        for qid, vals in measures.items():
            mine = stage["per_query"][qid]
            assert mine["MAP"] == pytest.approx(vals["map"], abs=1e-6)
            assert mine["nDCG@10"] == pytest.approx(vals["ndcg_cut_10"], abs=1e-6)
            assert mine["P@5"] == pytest.approx(vals["P_5"], abs=1e-6)
            assert mine["R@100"] == pytest.approx(vals["recall_100"], abs=1e-6)


def test_results_file(scifact_hybrid: PipelineEvaluation, tmp_path: Path) -> None:
    path = scifact_hybrid.write(tmp_path, stem="x")
    assert path == tmp_path / "x.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["kind"] == "odqa-eval-results" and data["pipeline"] == "hybrid"
    assert data["dataset"]["queries"] == 12 and data["final_stage"] == "fusion"
    assert [f["stage"] for f in data["funnel"]] == ["bm25", "dense", "fusion"]
    assert set(data["queries"]) == set(scifact_hybrid.dataset.qrels)
    assert data["ragas"] is None
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "x.bm25.trec",
        "x.dense.trec",
        "x.fusion.trec",
    ]


def test_answer_recall_on_squad(squad_evaluations: dict[str, PipelineEvaluation]) -> None:
    dataset = squad_evaluations["bm25"].dataset
    bm25 = squad_evaluations["bm25"].final_stage
    checked = 0
    for qid, vals in bm25.per_query.items():
        ks = sorted(int(k[3:]) for k in vals if k.startswith("AR@"))
        ar = [vals[f"AR@{k}"] for k in ks]
        assert ar == sorted(ar)  # AR@k never decreases with k
        # When the gold paragraph contains a gold answer as whole tokens (not always: SQuAD answers
        # may cut words), finding the paragraph in the top k implies answer recall at k.
        if answer_in_passages([dataset.contexts[qid]], dataset.answers[qid], 1):
            checked += 1
            for k in (1, 5, 20):
                assert vals[f"AR@{k}"] >= vals[f"success@{k}"]
    assert checked > 30
    assert 0 < bm25.means["AR@1"] <= bm25.means["AR@20"] <= 1
    assert bm25.funnel["answer_found"] >= bm25.means["AR@20"]


def test_answer_recall_recomputed_from_the_stage_output(
    squad_index: Path,
    squad_dataset: EvalDataset,
    registry: ModelRegistry,
    squad_evaluations: dict[str, PipelineEvaluation],
) -> None:
    runner = open_runner(PipelineEnv(index_dir=squad_index, registry=registry), "bm25", warm_up=False)
    stage = squad_evaluations["bm25"].stage("bm25")
    for q in squad_dataset.queries[:8]:
        docs = runner.run(q.text).outputs["bm25"]["documents"]
        expected = answer_in_passages([d.content for d in docs], squad_dataset.answers[q.qid], 5)
        assert stage.per_query[q.qid]["AR@5"] == float(expected)


def test_ragas_context_metrics_agree_with_precision_and_recall(
    squad_evaluations: dict[str, PipelineEvaluation],
) -> None:
    hybrid = squad_evaluations["hybrid"]
    assert hybrid.ragas is not None
    final = hybrid.final_stage
    qrels = hybrid.dataset.qrels
    p10 = evaluate(qrels, hybrid.runs[final.name], ["P@10", "R@10"], per_query=True).per_query
    for qid, vals in hybrid.ragas["per_query"].items():
        # ragas IDBasedContextPrecision/Recall on the top 10 documents = P@10 / R@10 (one passage per doc)
        assert vals["ragas_id_context_precision"] == pytest.approx(p10[qid]["P@10"])
        assert vals["ragas_id_context_recall"] == pytest.approx(p10[qid]["R@10"])
    assert "ragas_answer_similarity" in hybrid.ragas["skipped"]  # no reader
    assert "ragas_faithfulness" in hybrid.ragas["skipped"]
