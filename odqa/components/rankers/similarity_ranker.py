"""Haystack's cross-encoder ranker with an int8 ``precision`` for CPUs."""

from __future__ import annotations

from typing import Any, Literal

from haystack import component
from haystack_integrations.components.rankers.sentence_transformers import (
    SentenceTransformersSimilarityRanker,
)

from odqa.utils.onnx_runtime import OrtCrossEncoder, loading_in_torch
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

    ``backend="onnx"`` (upstream's parameter) runs the fp32 cross-encoder with ONNX Runtime through
    odqa's own export (:class:`odqa.utils.onnx_runtime.OrtCrossEncoder`: the cross-encoder's own
    tokenization, scores within 1e-5 of PyTorch's), because upstream's ONNX path needs Optimum,
    which does not support transformers 5. CPU only (on a GPU the PyTorch model is kept);
    ``precision="int8"`` is always PyTorch's int8 model.

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
        """Load the cross-encoder (upstream, in PyTorch), then quantize it when ``precision`` is
        ``int8``, or hand it to ONNX Runtime when ``backend`` is ``onnx``, on a CPU."""
        loaded = self._cross_encoder is not None
        with loading_in_torch(self) as onnx:
            SentenceTransformersSimilarityRanker.warm_up(self)
        # upstream keeps the model in the private ``_cross_encoder`` (pinned by a test) and only
        # calls its ``rank``
        encoder = self._cross_encoder
        if loaded or encoder is None:
            return
        if self.precision == "int8":
            quantize_int8(encoder, self.int8_layers, inplace=True)
        elif onnx and encoder.device.type == "cpu":
            self._cross_encoder = OrtCrossEncoder.from_cross_encoder(encoder)

    def to_dict(self) -> dict[str, Any]:
        data = SentenceTransformersSimilarityRanker.to_dict(self)
        data["init_parameters"]["precision"] = self.precision
        data["init_parameters"]["int8_layers"] = self.int8_layers
        return data
