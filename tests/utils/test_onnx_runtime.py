"""odqa.utils.onnx_runtime: export once per weights, atomic files, ORT outputs equal PyTorch's."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from odqa.utils.onnx_runtime import (
    OrtQuestionAnswering,
    cached_export,
    check_backend,
    onnx_cache_dir,
    weights_fingerprint,
)


def tiny_qa() -> torch.nn.Module:
    """A one-layer BERT question-answering model with random weights (the reader's architecture)."""
    from transformers import BertConfig, BertForQuestionAnswering

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    return BertForQuestionAnswering(config).eval()


def test_ort_matches_torch_at_any_batch_and_length(tmp_path: Path) -> None:
    model = tiny_qa()
    ort_model = OrtQuestionAnswering.from_torch(model, cache_dir=tmp_path)
    for batch, length in [(1, 5), (3, 40), (2, 8)]:
        ids = torch.randint(0, 50, (batch, length))
        mask = torch.ones_like(ids)
        mask[0, length // 2 :] = 0
        with torch.no_grad():
            want = model(input_ids=ids, attention_mask=mask)
        got = ort_model(input_ids=ids, attention_mask=mask)
        torch.testing.assert_close(got.start_logits, want.start_logits, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(got.end_logits, want.end_logits, atol=1e-5, rtol=1e-4)
    assert [p.name for p in tmp_path.iterdir()] == [ort_model.path.name]  # no temporary file left


def test_one_export_per_weights(tmp_path: Path) -> None:
    model = tiny_qa()
    ids = torch.ones(2, 8, dtype=torch.long)
    example = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    outputs = ["start_logits", "end_logits"]
    first = cached_export(model, example, outputs, kind="reader", cache_dir=tmp_path)
    stamp = first.stat().st_mtime_ns
    assert cached_export(model, example, outputs, kind="reader", cache_dir=tmp_path) == first
    assert first.stat().st_mtime_ns == stamp  # reused, not rewritten
    before = weights_fingerprint(model)
    with torch.no_grad():
        model.qa_outputs.bias.add_(1.0)
    assert weights_fingerprint(model) != before
    second = cached_export(model, example, outputs, kind="reader", cache_dir=tmp_path)
    assert second != first and second.exists()


def test_cache_dir_and_backend_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ODQA_ONNX_CACHE", str(tmp_path / "x"))
    assert onnx_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("ODQA_ONNX_CACHE")
    monkeypatch.setenv("ODQA_CACHE_DIR", str(tmp_path / "c"))
    assert onnx_cache_dir() == tmp_path / "c" / "onnx"
    monkeypatch.delenv("ODQA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert onnx_cache_dir() == tmp_path / "odqa" / "onnx"
    check_backend("onnx")
    with pytest.raises(ValueError, match="backend must be torch or onnx"):
        check_backend("openvino")


def test_sentence_encoder_copies_and_delegates(minilm_path: str, tmp_path: Path) -> None:
    import copy

    from sentence_transformers import SentenceTransformer

    from odqa.utils.onnx_runtime import OrtSentenceEncoder

    encoder = OrtSentenceEncoder.from_sentence_transformer(
        SentenceTransformer(minilm_path, device="cpu"), cache_dir=tmp_path
    )
    assert encoder.get_embedding_dimension() == 384  # the PyTorch model's, through __getattr__
    again = copy.copy(encoder)
    assert again.encode(["Warsaw is in Poland."]).shape == (1, 384)


def test_loading_in_torch_restores_the_backend_even_on_failure() -> None:
    from types import SimpleNamespace

    from odqa.utils.onnx_runtime import loading_in_torch

    component = SimpleNamespace(backend="onnx")
    with pytest.raises(RuntimeError), loading_in_torch(component) as onnx:
        assert onnx and component.backend == "torch"
        raise RuntimeError("upstream failed to load")
    assert component.backend == "onnx"
    plain = SimpleNamespace(backend="openvino")
    with loading_in_torch(plain) as onnx:
        assert not onnx and plain.backend == "openvino"
