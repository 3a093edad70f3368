"""ragas metrics (the real ragas 0.4.3) on hand-made samples with known values."""

from __future__ import annotations

import math

import pytest

from odqa.eval.ragas_eval import LLM_METRICS, LLMConfig, RagasSample, llm_config_from_env, ragas_evaluate

pytest.importorskip("ragas")

GOLD = "Warsaw is the capital and largest city of Poland."


def test_offline_metrics() -> None:
    samples = [
        RagasSample(
            qid="q1",
            question="What is the capital of Poland?",
            contexts=[GOLD, "Kraków was the capital until 1596.", "Gdańsk is a port."],
            context_ids=["d1", "d2", "d3"],
            reference_ids=["d1", "d9"],
            reference_contexts=[GOLD],
            response="Warsaw",
            references=["warsaw", "Warsaw"],
        ),
        RagasSample(
            qid="q2",
            question="Which port?",
            contexts=["Nothing relevant here.", GOLD],
            context_ids=["d5", "d1"],
            reference_ids=["d1"],
            reference_contexts=[GOLD],
            response="Gdynia",
            references=["Gdańsk"],
        ),
    ]
    result = ragas_evaluate(samples, llm=None, llm_skip_reason="no endpoint in tests")
    q1, q2 = result.per_query["q1"], result.per_query["q2"]
    assert q1["ragas_id_context_precision"] == pytest.approx(1 / 3)
    assert q1["ragas_id_context_recall"] == pytest.approx(1 / 2)
    assert q2["ragas_id_context_precision"] == pytest.approx(1 / 2)
    assert q2["ragas_id_context_recall"] == pytest.approx(1.0)
    # the gold text at rank 1 (q1) or 2 (q2) and nothing else similar: AP 1 and 1/2
    assert q1["ragas_context_precision"] == pytest.approx(1.0, abs=1e-6)
    assert q2["ragas_context_precision"] == pytest.approx(0.5, abs=1e-6)
    assert q1["ragas_context_recall"] == q2["ragas_context_recall"] == 1.0
    assert q1["ragas_answer_exact_match"] == 1.0 and q1["ragas_answer_similarity"] == 1.0
    assert q2["ragas_answer_exact_match"] == 0.0
    assert q2["ragas_answer_similarity"] == pytest.approx(1 - 4 / 6)  # Levenshtein("Gdynia", "Gdańsk") = 4
    assert result.means["ragas_id_context_recall"] == pytest.approx(0.75)
    assert result.counts["ragas_id_context_recall"] == 2
    assert {result.skipped[m] for m in LLM_METRICS} == {"no endpoint in tests"}
    assert result.version.startswith("0.4")
    assert result.to_dict()["skipped"] == result.skipped


def test_metrics_without_inputs_are_skipped_with_a_reason() -> None:
    sample = RagasSample(qid="q", question="?", contexts=["a"], context_ids=["d1"], reference_ids=["d1"])
    result = ragas_evaluate([sample])
    assert result.means["ragas_id_context_precision"] == 1.0
    assert "gold answers" in result.skipped["ragas_answer_similarity"]
    assert "texts" in result.skipped["ragas_context_precision"]
    payload = result.to_dict()
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in payload["means"].values())


def test_llm_configuration_from_the_environment() -> None:
    config, reason = llm_config_from_env({})
    assert config is None and "OPENAI_API_KEY" in reason
    config, reason = llm_config_from_env(
        {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://localhost:8000/v1", "ODQA_RAGAS_MODEL": "qwen"}
    )
    assert reason == "" and config is not None
    assert (config.api_key, config.base_url, config.model) == ("sk-x", "http://localhost:8000/v1", "qwen")
    config, _ = llm_config_from_env({"OPENAI_API_KEY": "sk-x"})
    assert config is not None and config.model == "gpt-4o-mini" and config.base_url is None


def test_unreachable_llm_endpoint_is_reported_not_fatal() -> None:
    """The LLM-judged metrics are wired to ragas' modern collections; a dead endpoint skips them."""
    sample = RagasSample(
        qid="q",
        question="What is the capital of Poland?",
        contexts=[GOLD],
        context_ids=["d1"],
        reference_ids=["d1"],
        reference_contexts=[GOLD],
        response="Warsaw",
        references=["Warsaw"],
    )
    dead = LLMConfig(api_key="sk-test", base_url="http://127.0.0.1:9/v1")  # nothing listens on port 9
    result = ragas_evaluate([sample], llm=dead)
    assert result.means["ragas_answer_exact_match"] == 1.0  # offline metrics unaffected
    for name in LLM_METRICS:
        assert name not in result.means
        assert result.skipped[name].startswith("the LLM endpoint failed on every query")
