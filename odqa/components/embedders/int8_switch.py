"""The int8 switch shared by odqa's two sentence-transformers embedders (a mixin, not a component)."""

from __future__ import annotations

from typing import Any, Literal

from odqa.utils.quantization import Int8Layers, check_precision, int8_embedding_backend


class Int8Switch:
    """Adds ``model_precision`` (``fp32`` | ``int8``) and ``int8_layers`` to a Haystack
    sentence-transformers embedder placed after it in the bases.

    ``warm_up`` loads the model upstream, then swaps in an int8 copy of the shared backend
    (:func:`odqa.utils.quantization.int8_embedding_backend`); ``to_dict`` adds the two parameters.
    ``super()`` here reaches the upstream class: this mixin is not rebuilt by ``@component`` (which
    breaks zero-argument ``super()`` in the component class itself).

    Usage::

        @component
        class OdqaTextEmbedder(Int8Switch, SentenceTransformersTextEmbedder): ...
    """

    embedding_backend: Any

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
        """Load the encoder (upstream), then swap in an int8 copy when ``model_precision`` is ``int8``."""
        loaded = self.embedding_backend is not None
        super().warm_up()  # type: ignore[misc]
        if not loaded and self.model_precision == "int8" and self.embedding_backend is not None:
            self.embedding_backend = int8_embedding_backend(self.embedding_backend, self.int8_layers)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = super().to_dict()  # type: ignore[misc]
        data["init_parameters"]["model_precision"] = self.model_precision
        data["init_parameters"]["int8_layers"] = self.int8_layers
        return data
