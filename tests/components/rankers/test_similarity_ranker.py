"""OdqaSimilarityRanker: upstream's ranker (same scores in fp32) with an int8 switch on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from haystack import Document
from haystack_integrations.components.rankers.sentence_transformers import (
    SentenceTransformersSimilarityRanker,
)

from odqa.components.rankers.similarity_ranker import OdqaSimilarityRanker
from odqa.train.common import TrainResult

pytestmark = pytest.mark.slow


def _docs(tiny_squad: Path) -> tuple[str, list[Document]]:
    data = json.loads(tiny_squad.read_text())["data"]
    paragraphs = [p for article in data[:2] for p in article["paragraphs"]][:6]
    docs = [Document(content=p["context"], meta={"doc_id": f"p{i}"}) for i, p in enumerate(paragraphs)]
    return paragraphs[0]["qas"][0]["question"], docs


def test_fp32_scores_exactly_as_upstream(trained_reranker: TrainResult, tiny_squad: Path) -> None:
    question, docs = _docs(tiny_squad)
    ours = OdqaSimilarityRanker(model=trained_reranker.output_dir, top_k=6)
    upstream = SentenceTransformersSimilarityRanker(model=trained_reranker.output_dir, top_k=6)
    for r in (ours, upstream):
        r.warm_up()
    a = ours.run(query=question, documents=docs)["documents"]
    b = upstream.run(query=question, documents=docs)["documents"]
    assert [(d.id, d.score) for d in a] == [(d.id, d.score) for d in b]


def test_int8_quantizes_the_cross_encoder_and_keeps_the_order_close(
    trained_reranker: TrainResult, tiny_squad: Path
) -> None:
    question, docs = _docs(tiny_squad)
    fp32 = OdqaSimilarityRanker(model=trained_reranker.output_dir, top_k=6)
    int8 = OdqaSimilarityRanker(model=trained_reranker.output_dir, top_k=6, precision="int8")
    for r in (fp32, int8):
        r.warm_up()
    # upstream keeps the loaded CrossEncoder in the private `_cross_encoder`: pinned here
    assert int8._cross_encoder is not None
    kinds = {type(m) for m in int8._cross_encoder.modules()}
    assert torch.ao.nn.quantized.dynamic.Linear in kinds and torch.nn.Linear not in kinds
    a = fp32.run(query=question, documents=docs)["documents"]
    b = int8.run(query=question, documents=docs)["documents"]
    assert {d.id for d in a} == {d.id for d in b}
    assert (
        max(
            abs(x.score - y.score)
            for x, y in zip(sorted(a, key=lambda d: d.id), sorted(b, key=lambda d: d.id), strict=True)
        )
        < 0.1
    )
    int8.warm_up()  # a second warm-up does not quantize twice
    again = OdqaSimilarityRanker.from_dict(int8.to_dict())
    assert again.precision == "int8" and again.int8_layers == "all" and again.top_k == 6
    with pytest.raises(ValueError, match="int8_layers"):
        OdqaSimilarityRanker(model="m", int8_layers="ffn")  # type: ignore[arg-type]


def test_onnx_backend_scores_as_torch(
    trained_reranker: TrainResult, tiny_squad: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from odqa.utils.onnx_runtime import OrtCrossEncoder

    monkeypatch.setenv("ODQA_ONNX_CACHE", str(tmp_path))
    question, docs = _docs(tiny_squad)
    docs += [Document(content="A short passage.", meta={"doc_id": "short"})]  # lengths differ in a batch
    for scale_score in (True, False):
        torch_ranker = OdqaSimilarityRanker(
            model=trained_reranker.output_dir, top_k=7, scale_score=scale_score, batch_size=4
        )
        onnx_ranker = OdqaSimilarityRanker(
            model=trained_reranker.output_dir, top_k=7, scale_score=scale_score, batch_size=4, backend="onnx"
        )
        for r in (torch_ranker, onnx_ranker):
            r.warm_up()
        assert isinstance(onnx_ranker._cross_encoder, OrtCrossEncoder)
        a = torch_ranker.run(query=question, documents=docs)["documents"]
        b = onnx_ranker.run(query=question, documents=docs)["documents"]
        assert [d.id for d in a] == [d.id for d in b]
        assert all(abs((x.score or 0) - (y.score or 0)) < 1e-4 for x, y in zip(a, b, strict=True))
    assert len(list(tmp_path.glob("reranker-*.onnx"))) == 1  # one export, reused
    again = OdqaSimilarityRanker.from_dict(onnx_ranker.to_dict())
    assert again.backend == "onnx"
