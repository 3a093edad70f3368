"""Haystack's cross-encoder ranker with an int8 ``precision`` for CPUs."""

from __future__ import annotations

from typing import Any, Literal

from haystack import component
from haystack_integrations.components.rankers.sentence_transformers import (
    SentenceTransformersSimilarityRanker,
)

from odqa.utils.quantization import Int8Layers, check_precision, quantize_int8


@component
class OdqaSimilarityRanker(SentenceTransformersSimilarityRanker):
    """``SentenceTransformersSimilarityRanker`` (every upstream parameter, same scores) that can
    run its cross-encoder in int8 on a CPU.

    ``precision="int8"`` quantizes the cross-encoder's linear layers after loading
    (:func:`odqa.utils.quantization.quantize_int8`: per-channel int8 weights, activations
    quantized per batch); ``int8_layers`` is ``all`` or ``attention``. On a GPU the model stays as
    loaded. Measured in ``qa_rerank`` (300 SQuAD dev part A questions, 2-core AMD EPYC): re-ranker
    p50 770 -> 290 ms, answer F1 -1.8 (p .16); off by default (README, "Quantized re-ranker").

    Usage::

        ranker = OdqaSimilarityRanker(model="models/reranker", top_k=3, precision="int8")
        ranker.warm_up()
        ranker.run(query="Who founded Warsaw?", documents=docs)["documents"]
    """

    def __init__(
        self,
        *,
        precision: Literal["fp32", "int8"] = "fp32",
        int8_layers: Int8Layers = "all",
        **upstream: Any,
    ) -> None:
        check_precision(precision, int8_layers)
        # explicit base call: @component rebuilds the class, which breaks zero-argument super()
        SentenceTransformersSimilarityRanker.__init__(self, **upstream)
        self.precision = precision
        self.int8_layers = int8_layers

    def warm_up(self) -> None:
        """Load the cross-encoder (upstream), then quantize it when ``precision`` is ``int8``."""
        loaded = self._cross_encoder is not None
        SentenceTransformersSimilarityRanker.warm_up(self)
        # upstream keeps the model in the private ``_cross_encoder`` (pinned by a test)
        if not loaded and self.precision == "int8" and self._cross_encoder is not None:
            quantize_int8(self._cross_encoder, self.int8_layers, inplace=True)

    def to_dict(self) -> dict[str, Any]:
        data = SentenceTransformersSimilarityRanker.to_dict(self)
        data["init_parameters"]["precision"] = self.precision
        data["init_parameters"]["int8_layers"] = self.int8_layers
        return data
