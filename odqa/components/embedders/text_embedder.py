"""Haystack's sentence-transformers text embedder with an int8 ``model_precision`` for CPUs."""

from __future__ import annotations

from haystack import component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersTextEmbedder,
)

from odqa.components.embedders.runtime_switch import RuntimeSwitch


@component
class OdqaTextEmbedder(RuntimeSwitch, SentenceTransformersTextEmbedder):
    """``SentenceTransformersTextEmbedder`` (every upstream parameter, same vectors) that can embed
    questions on ONNX Runtime (``backend="onnx"``, the same fp32 vectors) or with its encoder in int8
    on a CPU (``backend``, ``model_precision``, ``int8_layers``: see
    :class:`~odqa.components.embedders.runtime_switch.RuntimeSwitch`). Use the precision the index was
    built with; a fp32 index queried in int8 lost .0066 nDCG@10 on SciFact (README, "Quantized
    embedder").

    Usage::

        embedder = OdqaTextEmbedder(model="models/embedder", model_precision="int8")
        embedder.warm_up()
        embedder.run(text="What is the capital of Poland?")["embedding"]
    """
