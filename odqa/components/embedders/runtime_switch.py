"""The runtime switches shared by odqa's two sentence-transformers embedders (a mixin, not a component):
int8 (PyTorch) and ONNX Runtime."""

from __future__ import annotations

from typing import Any, Literal

from odqa.utils.onnx_runtime import loading_in_torch, onnx_embedding_backend
from odqa.utils.quantization import Int8Layers, check_precision, int8_embedding_backend


class RuntimeSwitch:
    """Adds ``model_precision`` (``fp32`` | ``int8``) and ``int8_layers``, and gives upstream's
    ``backend`` an ``onnx`` that works, to a Haystack sentence-transformers embedder placed after it
    in the bases.

    ``warm_up`` loads the PyTorch model upstream (Haystack shares one backend per model between
    embedders), then swaps in a copy: int8 (:func:`odqa.utils.quantization.int8_embedding_backend`)
    when ``model_precision`` is ``int8``, else ONNX Runtime
    (:func:`odqa.utils.onnx_runtime.onnx_embedding_backend`: the same vectors within 1e-6) when
    ``backend`` is ``onnx`` on a CPU. Upstream's own ``backend="onnx"`` goes through Optimum, which
    does not support transformers 5. ``to_dict`` adds the two parameters.
    ``super()`` here reaches the upstream class: this mixin is not rebuilt by ``@component`` (which
    breaks zero-argument ``super()`` in the component class itself).

    Usage::

        @component
        class OdqaTextEmbedder(RuntimeSwitch, SentenceTransformersTextEmbedder): ...
    """

    embedding_backend: Any
    backend: Literal["torch", "onnx", "openvino"]

    def __init__(
        self,
        *,
        model_precision: Literal["fp32", "int8"] = "fp32",
        int8_layers: Int8Layers = "all",
        **upstream: Any,
    ) -> None:
        check_precision(model_precision, int8_layers)
        super().__init__(**upstream)
        self.model_precision = model_precision
        self.int8_layers = int8_layers

    def warm_up(self) -> None:
        """Load the encoder (upstream, PyTorch), then swap in its int8 or ONNX Runtime copy."""
        loaded = self.embedding_backend is not None
        with loading_in_torch(self) as onnx:
            super().warm_up()  # type: ignore[misc]
        if loaded or self.embedding_backend is None:
            return
        if self.model_precision == "int8":
            self.embedding_backend = int8_embedding_backend(self.embedding_backend, self.int8_layers)
        elif onnx and self.embedding_backend.model.device.type == "cpu":
            self.embedding_backend = onnx_embedding_backend(self.embedding_backend)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = super().to_dict()  # type: ignore[misc]
        data["init_parameters"]["model_precision"] = self.model_precision
        data["init_parameters"]["int8_layers"] = self.int8_layers
        return data
