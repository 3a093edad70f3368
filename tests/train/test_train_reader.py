"""A real (tiny) reader training run: the loss falls and the output works in Haystack."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from odqa.corpus.squad import read_squad
from odqa.train.common import TrainResult

pytestmark = pytest.mark.slow


def test_loss_falls(trained_reader: TrainResult) -> None:
    losses = [
        json.loads(line)["loss"]
        for line in (Path(trained_reader.output_dir) / "train_log.jsonl").read_text().splitlines()
    ]
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.75 * first, losses
    assert trained_reader.extra["first_loss"] == pytest.approx(losses[0], abs=1e-5)
    windows = trained_reader.extra["windows"]  # 8 one-window questions + the no-answer windows
    assert trained_reader.steps == 6 * math.ceil(windows / 4)  # 6 epochs, batch of 4
    assert trained_reader.examples_per_s > 0


def test_no_answer_windows_validation_curve_and_reference_speed(trained_reader: TrainResult) -> None:
    out = Path(trained_reader.output_dir)
    manifest = json.loads((out / "odqa_manifest.json").read_text())
    train = next(d for d in manifest["data"] if d["role"] == "train")
    assert train["counts"]["no_answer_windows"] > 0  # negatives 0.5 of 8 questions
    assert train["counts"]["windows"] == 8 + train["counts"]["no_answer_windows"]
    assert train["counts"]["validation_questions"] == 8
    curve = [json.loads(line) for line in (out / "eval_log.jsonl").read_text().splitlines()]
    assert len(curve) == 2 and curve[-1]["step"] == trained_reader.steps
    assert manifest["training"]["learning_curve"] == curve
    assert manifest["training"]["best_step"] in {c["step"] for c in curve}
    ref = manifest["training"]["reference_speed"]
    assert ref["fp32"] > 0 and ref["benchmark"].startswith("MiniLM-L6")
    assert manifest["training"]["precision"] in {"fp32", "bf16"}


def test_output_dir_is_a_plain_hf_model_with_card(trained_reader: TrainResult) -> None:
    out = Path(trained_reader.output_dir)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md", "odqa_manifest.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "odqa_manifest.json").read_text())
    assert manifest["odqa_model"] == "reader"
    assert manifest["training"]["steps"] == trained_reader.steps
    assert set(manifest["dev_metrics"]) >= {"exact_match", "f1"}
    assert 0.0 <= trained_reader.dev_metrics["f1"] <= 100.0
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, trained_reader.steps + 1))


def test_loads_in_transformers(trained_reader: TrainResult) -> None:
    from transformers import AutoModelForQuestionAnswering

    model = AutoModelForQuestionAnswering.from_pretrained(trained_reader.output_dir)
    assert model.config.architectures == ["BertForQuestionAnswering"]


def test_haystack_extractive_reader_returns_a_span(trained_reader: TrainResult, tiny_squad: Path) -> None:
    from haystack import Document
    from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

    _, examples = read_squad(tiny_squad, progress=False)
    ex = examples[0]
    reader = TransformersExtractiveReader(model=trained_reader.output_dir, no_answer=False)
    reader.warm_up()
    answers = reader.run(query=ex.question, documents=[Document(content=ex.context)], top_k=3)["answers"]
    assert answers
    for answer in answers:
        assert answer.data and answer.data in ex.context
        span = answer.document_offset
        assert ex.context[span.start : span.end] == answer.data
