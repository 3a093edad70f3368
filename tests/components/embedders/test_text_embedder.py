"""OdqaTextEmbedder: upstream's text embedder (same vectors in fp32) with an int8 switch on CPU."""

from __future__ import annotations

import numpy as np
import torch
from haystack_integrations.components.embedders.sentence_transformers import SentenceTransformersTextEmbedder

from odqa.components.embedders.document_embedder import OdqaDocumentEmbedder
from odqa.components.embedders.text_embedder import OdqaTextEmbedder

QUESTION = "What is the capital of Poland?"


def test_fp32_as_upstream_int8_close(minilm_path: str) -> None:
    ours = OdqaTextEmbedder(model=minilm_path, progress_bar=False)
    upstream = SentenceTransformersTextEmbedder(model=minilm_path, progress_bar=False)
    int8 = OdqaTextEmbedder(model=minilm_path, progress_bar=False, model_precision="int8")
    for e in (ours, upstream, int8):
        e.warm_up()
    a = np.array(ours.run(text=QUESTION)["embedding"])
    assert np.array_equal(a, np.array(upstream.run(text=QUESTION)["embedding"]))
    b = np.array(int8.run(text=QUESTION)["embedding"])
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.97
    again = OdqaTextEmbedder.from_dict(int8.to_dict())
    assert again.model_precision == "int8"


def test_document_and_text_embedders_share_one_int8_model(minilm_path: str) -> None:
    doc = OdqaDocumentEmbedder(model=minilm_path, progress_bar=False, model_precision="int8")
    text = OdqaTextEmbedder(model=minilm_path, progress_bar=False, model_precision="int8")
    for e in (doc, text):
        e.warm_up()
    assert doc.embedding_backend is not None and text.embedding_backend is not None
    assert doc.embedding_backend.model is text.embedding_backend.model
    assert torch.ao.nn.quantized.dynamic.Linear in {type(m) for m in text.embedding_backend.model.modules()}


def test_onnx_vectors_as_torch_and_one_session_for_both_embedders(minilm_path: str) -> None:
    from haystack import Document

    from odqa.utils.onnx_runtime import OrtSentenceEncoder

    torch_text = OdqaTextEmbedder(model=minilm_path, progress_bar=False)
    onnx_text = OdqaTextEmbedder(model=minilm_path, progress_bar=False, backend="onnx")
    onnx_doc = OdqaDocumentEmbedder(
        model=minilm_path, progress_bar=False, backend="onnx", normalize_embeddings=True, batch_size=2
    )
    torch_doc = OdqaDocumentEmbedder(
        model=minilm_path, progress_bar=False, normalize_embeddings=True, batch_size=2
    )
    for e in (torch_text, onnx_text, onnx_doc, torch_doc):
        e.warm_up()
    assert onnx_text.embedding_backend is not None and onnx_doc.embedding_backend is not None
    assert isinstance(onnx_text.embedding_backend.model, OrtSentenceEncoder)
    assert onnx_doc.embedding_backend.model is onnx_text.embedding_backend.model  # one session
    assert torch_text.embedding_backend is not None  # the shared PyTorch backend is untouched
    assert not isinstance(torch_text.embedding_backend.model, OrtSentenceEncoder)
    a = np.array(torch_text.run(text=QUESTION)["embedding"])
    b = np.array(onnx_text.run(text=QUESTION)["embedding"])
    np.testing.assert_allclose(a, b, atol=1e-5)
    docs = [Document(content=t * n) for n, t in enumerate(["Warsaw is in Poland. ", "Oxygen, 8. ", "x "], 1)]
    want = np.array([d.embedding for d in torch_doc.run(documents=docs)["documents"]])
    got = np.array([d.embedding for d in onnx_doc.run(documents=docs)["documents"]])
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert OdqaTextEmbedder.from_dict(onnx_text.to_dict()).backend == "onnx"
