"""Haystack's sentence-transformers document embedder with an int8 ``model_precision`` for CPUs."""

from __future__ import annotations

from haystack import component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersDocumentEmbedder,
)

from odqa.components.embedders.int8_switch import Int8Switch


@component
class OdqaDocumentEmbedder(Int8Switch, SentenceTransformersDocumentEmbedder):
    """``SentenceTransformersDocumentEmbedder`` (every upstream parameter, same vectors) that can run
    its encoder in int8 on a CPU.

    ``model_precision="int8"`` quantizes the encoder's linear layers after loading
    (:func:`odqa.utils.quantization.quantize_int8`: per-channel int8 weights, activations quantized
    per batch; ``int8_layers`` ``all`` or ``attention``;
    :class:`~odqa.components.embedders.int8_switch.Int8Switch`).
    Upstream's own ``precision`` is another thing: the precision of the *output* vectors. On a GPU
    the model stays as loaded. The fp32 model Haystack shares between embedders is not touched.
    Measured and off by default (README, "Quantized embedder").

    Usage::

        embedder = OdqaDocumentEmbedder(model="models/embedder", model_precision="int8")
        embedder.warm_up()
        embedder.run(documents=[Document(content="Warsaw is the capital of Poland.")])["documents"]
    """
