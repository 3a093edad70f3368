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
