"""Int8 dynamic quantization of a model's linear layers on CPU (PyTorch's eager API).

Weights become per-channel int8, activations are quantized per batch at run time; the result runs
with x86's fbgemm kernels. Used by the reader and the re-ranker (``precision: int8``).

Usage::

    from odqa.utils.quantization import quantize_int8
    model = quantize_int8(model, layers="attention")
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

Int8Layers = Literal["all", "attention"]
PRECISIONS = ("fp32", "int8")
INT8_LAYERS = ("all", "attention")


def check_precision(precision: str, int8_layers: str) -> None:
    """:raises ValueError: an unknown ``precision`` or ``int8_layers``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be fp32 or int8, got {precision!r}")
    if int8_layers not in INT8_LAYERS:
        raise ValueError(f"int8_layers must be all or attention, got {int8_layers!r}")


def quantize_int8(model: Any, layers: Int8Layers = "all", *, inplace: bool = False) -> Any:
    """``model`` with its ``torch.nn.Linear`` layers (``all``, or those under an ``attention``
    module) replaced by dynamically quantized int8 ones; a model on a GPU is returned as it is."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    first = next(model.parameters(), None)
    if first is not None and first.device.type != "cpu":
        return model
    if layers == "all":
        spec: Any = {torch.nn.Linear: per_channel_dynamic_qconfig}
    else:
        spec = {
            name: per_channel_dynamic_qconfig
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and ".attention." in f".{name}."
        }
    with warnings.catch_warnings():  # torch points eager quantization users at torchao
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=inplace)


#: int8 copies of shared embedding backends, by (id of the fp32 backend, layers)
_INT8_BACKENDS: dict[tuple[int, str], Any] = {}


def int8_embedding_backend(backend: Any, layers: Int8Layers = "all") -> Any:
    """An int8 copy of a Haystack sentence-transformers embedding backend (its ``model`` quantized,
    :func:`quantize_int8`); the fp32 backend itself is left as it is, because Haystack shares one
    backend between every embedder of the same model. Copies are cached, so a document embedder and
    a text embedder of one model share one int8 model too."""
    import copy

    key = (id(backend), layers)
    if key not in _INT8_BACKENDS:
        quantized = copy.copy(backend)
        quantized.model = quantize_int8(backend.model, layers)  # not in place: a new module
        _INT8_BACKENDS[key] = (backend, quantized)  # holding the original keeps its id unique
    return _INT8_BACKENDS[key][1]


def clear_int8_backends() -> None:
    """Forget the cached int8 copies (benchmarks that time model loading start from nothing)."""
    _INT8_BACKENDS.clear()
