"""Haystack's sentence-transformers text embedder with an int8 ``model_precision`` for CPUs."""

from __future__ import annotations

from typing import Any, Literal

from haystack import component
from haystack_integrations.components.embedders.sentence_transformers import (
    SentenceTransformersTextEmbedder,
)

from odqa.utils.quantization import Int8Layers, check_precision, int8_embedding_backend


@component
class OdqaTextEmbedder(SentenceTransformersTextEmbedder):
    """``SentenceTransformersTextEmbedder`` (every upstream parameter, same vectors) that can run
    its encoder in int8 on a CPU.

    ``model_precision="int8"`` quantizes the encoder's linear layers after loading
    (:func:`odqa.utils.quantization.quantize_int8`: per-channel int8 weights, activations quantized
    per batch; ``int8_layers`` ``all`` or ``attention``). Upstream's own ``precision`` is another
    thing: the precision of the *output* vectors. On a GPU the model stays as loaded. The fp32 model
    Haystack shares between embedders is not touched. Measured and off by default (README,
    "Quantized embedder").

    Usage::

        embedder = OdqaTextEmbedder(model="sentence-transformers/all-MiniLM-L6-v2", model_precision="int8")
        embedder.warm_up()
        embedder.run(text="What is the capital of Poland?")["embedding"]
    """

    def __init__(
        self,
        *,
        model_precision: Literal["fp32", "int8"] = "fp32",
        int8_layers: Int8Layers = "all",
        **upstream: Any,
    ) -> None:
        check_precision(model_precision, int8_layers)
        # explicit base call: @component rebuilds the class, which breaks zero-argument super()
        SentenceTransformersTextEmbedder.__init__(self, **upstream)
        self.model_precision = model_precision
        self.int8_layers = int8_layers

    def warm_up(self) -> None:
        """Load the encoder (upstream), then swap in an int8 copy when ``model_precision`` is ``int8``."""
        loaded = self.embedding_backend is not None
        SentenceTransformersTextEmbedder.warm_up(self)
        if not loaded and self.model_precision == "int8" and self.embedding_backend is not None:
            self.embedding_backend = int8_embedding_backend(self.embedding_backend, self.int8_layers)

    def to_dict(self) -> dict[str, Any]:
        data = SentenceTransformersTextEmbedder.to_dict(self)
        data["init_parameters"]["model_precision"] = self.model_precision
        data["init_parameters"]["int8_layers"] = self.int8_layers
        return data
