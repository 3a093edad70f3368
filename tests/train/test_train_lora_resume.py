"""LoRA training (adapter kept, weights merged) and resuming a real trainer from a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open

from odqa.train import reader, reranker

pytestmark = pytest.mark.slow


def _tiny(tiny_squad: Path, small_base: str, out: Path, **kw: Any) -> dict[str, Any]:
    common = dict(
        base_model=small_base,
        output_dir=str(out),
        dev_file="",
        progress=False,
        threads=1,
        warmup=0,
        minutes=0,  # the reader's quick recipe has a time budget; these runs count steps
        measure_speed=False,
    )
    return {**common, **kw}


def _tensor_names(model_dir: Path) -> list[str]:
    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        return list(f.keys())


def test_reranker_lora_merges_and_keeps_adapter(tiny_squad: Path, small_base: str, tmp_path: Path) -> None:
    from peft import PeftModel
    from sentence_transformers import CrossEncoder
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    cfg = reranker.config_from_recipe(
        "quick",
        **_tiny(tiny_squad, small_base, tmp_path, squad_file=str(tiny_squad), squad_questions=4),
        lora=True,
        lora_r=4,
        max_steps=2,
        batch_size=2,
        lr=1e-3,
        max_length=64,
    )
    result = reranker.train_reranker(cfg)
    params = result.extra["parameters"]
    assert params["trainable"] < params["total"] / 10  # adapters + head only
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    names = _tensor_names(tmp_path)
    assert not any("lora_" in n or "base_model" in n or "modules_to_save" in n for n in names)

    # the merged plain model scores exactly like base + adapter
    pair = ("who founded the city?", "The city was founded by Romans in 43 AD.")
    tok = AutoTokenizer.from_pretrained(tmp_path)
    batch = tok(*pair, return_tensors="pt")
    merged = AutoModelForSequenceClassification.from_pretrained(tmp_path).eval()
    base = AutoModelForSequenceClassification.from_pretrained(small_base, num_labels=1)
    adapted = PeftModel.from_pretrained(base, tmp_path / "adapter").eval()
    with torch.inference_mode():
        torch.testing.assert_close(merged(**batch).logits, adapted(**batch).logits, atol=1e-4, rtol=1e-4)
    score = CrossEncoder(str(tmp_path)).predict([pair])
    assert 0.0 <= float(score[0]) <= 1.0


def test_reader_lora(tiny_squad: Path, small_base: str, tmp_path: Path) -> None:
    from transformers import AutoModelForQuestionAnswering

    cfg = reader.config_from_recipe(
        "quick",
        **_tiny(tiny_squad, small_base, tmp_path, train_file=str(tiny_squad)),
        lora=True,
        max_examples=4,
        val_examples=0,
        max_steps=1,
        batch_size=4,
        max_length=96,
        doc_stride=32,
    )
    result = reader.train_reader(cfg)
    assert result.steps == 1
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()
    assert not any("lora_" in n for n in _tensor_names(tmp_path))
    assert AutoModelForQuestionAnswering.from_pretrained(tmp_path).config.num_hidden_layers == 2


def test_resume_continues_the_step_count(tiny_squad: Path, small_base: str, tmp_path: Path) -> None:
    def run(**kw: Any) -> Any:
        cfg = reranker.config_from_recipe(
            "quick",
            **_tiny(tiny_squad, small_base, tmp_path, squad_file=str(tiny_squad), squad_questions=8),
            batch_size=2,
            max_length=64,
            checkpoint_every=1,
            **kw,
        )
        return reranker.train_reranker(cfg)

    first = run(max_steps=2)
    assert first.steps == 2 and first.extra["resumed_from"] is None
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["step-1", "step-2"]
    second = run(max_steps=4, resume=True)
    assert second.extra["resumed_from"] == 2
    assert second.steps == 4
    steps = [json.loads(line)["step"] for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    state = json.loads((tmp_path / "checkpoints" / "step-4" / "state.json").read_text())
    assert state["step"] == 4 and state["examples"] == 4 * 2 * 4  # steps x groups x (1 + 3 passages)
    manifest = json.loads((tmp_path / "odqa_manifest.json").read_text())
    assert manifest["training"]["steps"] == 4 and manifest["training"]["resumed_from"] == 2
