"""OdqaDocumentEmbedder: upstream's embedder (same vectors in fp32) with an int8 switch on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from haystack import Document
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
)

from odqa.components.embedders.document_embedder import OdqaDocumentEmbedder

DOCS = [
    "Warsaw is the capital and largest city of Poland.",
    "Nikola Tesla died in New York City in January 1943.",
    "Oxygen is the chemical element with atomic number 8.",
]


def _vectors(embedder: SentenceTransformersDocumentEmbedder) -> np.ndarray:
    docs = embedder.run(documents=[Document(content=t) for t in DOCS])["documents"]
    return np.array([d.embedding for d in docs])


def test_fp32_vectors_exactly_as_upstream(minilm_path: str) -> None:
    ours = OdqaDocumentEmbedder(model=minilm_path, progress_bar=False)
    upstream = SentenceTransformersDocumentEmbedder(model=minilm_path, progress_bar=False)
    for e in (ours, upstream):
        e.warm_up()
    assert np.array_equal(_vectors(ours), _vectors(upstream))


def test_int8_is_close_and_leaves_the_shared_fp32_model_alone(minilm_path: str) -> None:
    fp32 = OdqaDocumentEmbedder(model=minilm_path, progress_bar=False, normalize_embeddings=True)
    int8 = OdqaDocumentEmbedder(
        model=minilm_path, progress_bar=False, normalize_embeddings=True, model_precision="int8"
    )
    fp32.warm_up()
    before = _vectors(fp32)
    int8.warm_up()
    assert int8.embedding_backend is not None and fp32.embedding_backend is not None
    kinds = {type(m) for m in int8.embedding_backend.model.modules()}
    assert torch.ao.nn.quantized.dynamic.Linear in kinds and torch.nn.Linear not in kinds
    # Haystack caches one backend per model: the fp32 embedder's model must still be fp32
    assert torch.nn.Linear in {type(m) for m in fp32.embedding_backend.model.modules()}
    assert np.array_equal(_vectors(fp32), before)
    cosines = (_vectors(int8) * before).sum(axis=1)
    assert cosines.min() > 0.97 and not np.array_equal(_vectors(int8), before)
    backend = int8.embedding_backend
    int8.warm_up()  # a second warm-up does not quantize again
    assert int8.embedding_backend is backend


def test_round_trip_and_bad_precision(minilm_path: str) -> None:
    e = OdqaDocumentEmbedder(model=minilm_path, model_precision="int8", int8_layers="attention", batch_size=8)
    again = OdqaDocumentEmbedder.from_dict(e.to_dict())
    assert (again.model_precision, again.int8_layers, again.batch_size) == ("int8", "attention", 8)
    with pytest.raises(ValueError, match="precision must be fp32 or int8"):
        OdqaDocumentEmbedder(model=minilm_path, model_precision="fp16")  # type: ignore[arg-type]


def test_progress_bar_is_odqas_and_the_vectors_are_upstreams(
    minilm_path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = [f"{t} Passage {i}." for i in range(7) for t in DOCS]  # 21 passages, slices of 2 * 8
    docs = [Document(content=t) for t in texts]
    ours = OdqaDocumentEmbedder(model=minilm_path, batch_size=2, progress_bar=True)
    upstream = SentenceTransformersDocumentEmbedder(model=minilm_path, batch_size=2, progress_bar=False)
    for e in (ours, upstream):
        e.warm_up()
    got = ours.run(documents=docs)["documents"]
    err = capsys.readouterr().err
    assert "embedding" in err and "21/21" in err and "Batches" not in err
    assert ours.progress_bar is True  # restored after the run
    want = upstream.run(documents=docs)["documents"]
    assert [d.id for d in got] == [d.id for d in docs]
    np.testing.assert_allclose(
        np.array([d.embedding for d in got]), np.array([d.embedding for d in want]), atol=1e-5
    )
