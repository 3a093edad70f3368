"""ONNX Runtime inference (fp32, CPU) for odqa's transformer models: exported once, cached by weights.

A model loaded with PyTorch is exported to ONNX (``torch.onnx.export``, opset 17, dynamic batch and
sequence axes) and run with ONNX Runtime's CPU provider at full graph optimization. The exported
file is cached under ``$ODQA_ONNX_CACHE``, else ``$ODQA_CACHE_DIR/onnx`` (odqa's cache, e.g. the
docker image's volume), else ``$XDG_CACHE_HOME/odqa/onnx``, else ``~/.cache/odqa/onnx``, named by a
fingerprint of the model's weights, its class, and the torch / exporter versions: a retrained model
(``odqa train reader`` upgrading in place) gets a new file on its next warm-up, never a stale one.
The file is written beside its final name and renamed into place, so a killed export leaves no half
file. Files of earlier weights stay until removed (one per model version, ~90 MB for MiniLM-L6).

Same numbers as PyTorch (reader logits and cross-encoder scores within 1e-5, sentence vectors within
1e-6) and faster on a 2-core CPU for MiniLM-sized models: reader 63 vs 101 ms and cross-encoder 455 vs
792 ms per question (``benchmarks/qa_vs_haystack.py``), passage encoding 1.5x
(``benchmarks/index_throughput.py --onnx``). Sessions do not busy-wait between runs (several sessions
and PyTorch share the cores).

Usage::

    from odqa.utils.onnx_runtime import OrtQuestionAnswering
    model = AutoModelForQuestionAnswering.from_pretrained(path).eval()
    ort_model = OrtQuestionAnswering.from_torch(model)
    out = ort_model(input_ids=ids, attention_mask=mask)   # .start_logits / .end_logits as torch tensors

    ranker = OrtCrossEncoder.from_cross_encoder(CrossEncoder(path))
    ranker.rank(query, documents, activation_fn=torch.nn.Sigmoid())   # as CrossEncoder.rank

    encoder = OrtSentenceEncoder.from_sentence_transformer(SentenceTransformer(path))
    encoder.encode(texts, batch_size=32, normalize_embeddings=True)   # as SentenceTransformer.encode

Why not Optimum (sentence-transformers' own ``backend="onnx"``): optimum-onnx 0.1.0, the newest
release in the package index, requires transformers < 4.58; odqa pins transformers 5.24.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

log = logging.getLogger(__name__)

Backend = Literal["torch", "onnx"]
BACKENDS = ("torch", "onnx")
OPSET = 17
#: part of every fingerprint: bump when the export itself changes
EXPORT_VERSION = "1"


def check_backend(backend: str) -> None:
    """:raises ValueError: an unknown inference ``backend``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be torch or onnx, got {backend!r}")


@contextmanager
def loading_in_torch(component: Any) -> Iterator[bool]:
    """Around upstream's ``warm_up`` of a Haystack sentence-transformers component: its ``backend``
    reads ``torch`` meanwhile (upstream's ``onnx`` goes through Optimum, which does not support
    transformers 5), and is restored after. Yields whether ``onnx`` was asked for, i.e. whether the
    caller should hand the loaded PyTorch model to ONNX Runtime."""
    onnx = component.backend == "onnx"
    if onnx:
        component.backend = "torch"
    try:
        yield onnx
    finally:
        if onnx:
            component.backend = "onnx"


def model_inputs(features: Mapping[str, Any]) -> dict[str, Any]:
    """The transformer's inputs among a sentence-transformers ``preprocess`` output (which also
    carries bookkeeping such as ``modality``)."""
    return {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}


def onnx_cache_dir() -> Path:
    """Where exported models are cached (see the module docstring)."""
    if explicit := os.environ.get("ODQA_ONNX_CACHE"):
        return Path(explicit)
    if odqa_cache := os.environ.get("ODQA_CACHE_DIR"):
        return Path(odqa_cache) / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "odqa" / "onnx"


def weights_fingerprint(model: torch.nn.Module) -> str:
    """sha256 of the model's class, every tensor of its state dict (name, dtype, shape, bytes) and the
    torch and export versions: equal for the same weights, different after any change."""
    import torch

    h = hashlib.sha256(f"{type(model).__qualname__}|torch {torch.__version__}|{EXPORT_VERSION}".encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def export_onnx(
    model: torch.nn.Module,
    example: dict[str, torch.Tensor],
    output_names: list[str],
    path: Path,
    *,
    output_axes: dict[int, str] | None = None,
) -> None:
    """Export ``model`` called with ``example`` (keyword inputs; batch and sequence dims dynamic;
    outputs' dynamic dims ``output_axes``, default the same two) to ``path``, atomically (a
    temporary file beside it, then a rename)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    names = list(example)
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes |= {n: output_axes or {0: "batch", 1: "sequence"} for n in output_names}

    class _Positional(torch.nn.Module):  # the exporter passes inputs positionally
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = self.inner(**dict(zip(names, args, strict=True)))
            return tuple(out[n] for n in output_names)

    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about data-dependent Python control flow
            torch.onnx.export(
                _Positional(model).eval(),
                tuple(example[n] for n in names),
                str(tmp),
                input_names=names,
                output_names=output_names,
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cached_export(
    model: torch.nn.Module,
    example: dict[str, torch.Tensor],
    output_names: list[str],
    *,
    kind: str,
    cache_dir: Path | None = None,
    output_axes: dict[int, str] | None = None,
) -> Path:
    """The cached ONNX file of ``model`` (exported now if this exact model has none)."""
    path = (cache_dir or onnx_cache_dir()) / f"{kind}-{weights_fingerprint(model)[:20]}.onnx"
    if not path.exists():
        log.info("exporting the %s to ONNX: %s (once per model)", kind, path)
        export_onnx(model, example, output_names, path, output_axes=output_axes)
    return path


def ort_session(path: Path, threads: int | None = None) -> Any:
    """An ONNX Runtime CPU session of ``path``, all graph optimizations, ``threads`` intra-op threads
    (default: PyTorch's thread count, so both backends use the same cores)."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: odqa's console shows odqa's messages
    # no busy-waiting between runs: a graph holds several sessions (embedder, reranker, reader) and
    # PyTorch parts, and ORT's default spinning threads would take the cores from whichever runs next
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@dataclass
class QAOutput:
    """What upstream's reader reads from a question-answering model's output."""

    start_logits: torch.Tensor
    end_logits: torch.Tensor


class OrtQuestionAnswering:
    """A question-answering model (``AutoModelForQuestionAnswering``) run by ONNX Runtime, called
    like the PyTorch model with ``input_ids`` and ``attention_mask``."""

    def __init__(self, session: Any, path: Path) -> None:
        self.session = session
        self.path = path

    @classmethod
    def from_torch(
        cls, model: torch.nn.Module, *, cache_dir: Path | None = None, threads: int | None = None
    ) -> OrtQuestionAnswering:
        import torch

        ids = torch.ones(2, 8, dtype=torch.long)
        example = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        path = cached_export(
            model, example, ["start_logits", "end_logits"], kind="reader", cache_dir=cache_dir
        )
        return cls(ort_session(path, threads), path)

    def __call__(self, *, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> QAOutput:
        import torch

        start, end = self.session.run(
            None,
            {"input_ids": input_ids.cpu().numpy(), "attention_mask": attention_mask.cpu().numpy()},
        )
        return QAOutput(torch.from_numpy(start), torch.from_numpy(end))


class OrtCrossEncoder:
    """A sentence-transformers ``CrossEncoder`` whose transformer runs on ONNX Runtime: pairs are
    tokenized by the cross-encoder's own ``preprocess`` (same truncation, same lengths) and scored
    by the exported ``AutoModelForSequenceClassification``; :meth:`rank` answers as
    ``CrossEncoder.rank`` does, which is all Haystack's similarity ranker calls."""

    def __init__(self, cross_encoder: Any, session: Any, path: Path) -> None:
        self.cross_encoder = cross_encoder
        self.session = session
        self.path = path
        self.input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def from_cross_encoder(
        cls, cross_encoder: Any, *, cache_dir: Path | None = None, threads: int | None = None
    ) -> OrtCrossEncoder:
        model = cross_encoder[0].model  # the transformer module's Hugging Face model
        example = model_inputs(cross_encoder.preprocess([["a question", "a passage"]]))
        path = cached_export(
            model, example, ["logits"], kind="reranker", cache_dir=cache_dir, output_axes={0: "batch"}
        )
        return cls(cross_encoder, ort_session(path, threads), path)

    def predict(self, pairs: list[list[str]], *, batch_size: int = 32) -> np.ndarray:
        """Raw logits of ``pairs`` (``[query, passage]``), shape ``(len(pairs), num_labels)``; longest
        first in batches, as sentence-transformers batches them."""
        import numpy as np

        order = np.argsort([-(len(q) + len(p)) for q, p in pairs], kind="stable")
        out = np.zeros((len(pairs), self.cross_encoder.num_labels), dtype=np.float32)
        for i in range(0, len(pairs), batch_size):
            idx = order[i : i + batch_size]
            features = self.cross_encoder.preprocess([pairs[j] for j in idx])
            feeds = {n: features[n].cpu().numpy() for n in self.input_names}
            (logits,) = self.session.run(None, feeds)
            out[idx] = logits
        return out

    def rank(
        self,
        query: str,
        documents: list[str],
        *,
        top_k: int | None = None,
        batch_size: int = 32,
        activation_fn: Any = None,
        convert_to_numpy: bool = True,
        return_documents: bool = False,
    ) -> list[dict[str, Any]]:
        """``[{"corpus_id", "score"(, "text")}]`` best first, scores through ``activation_fn`` (the
        cross-encoder's own when ``None``), as ``CrossEncoder.rank``."""
        import torch

        logits = torch.from_numpy(self.predict([[query, d] for d in documents], batch_size=batch_size))
        activation = activation_fn if activation_fn is not None else self.cross_encoder.activation_fn
        scores = activation(logits)
        if scores.ndim > 1 and scores.shape[-1] == 1:
            scores = scores.squeeze(-1)
        results = []
        for i, score in enumerate(scores):
            row: dict[str, Any] = {"corpus_id": i, "score": score.numpy() if convert_to_numpy else score}
            if return_documents:
                row["text"] = documents[i]
            results.append(row)
        results.sort(key=lambda r: float(r["score"]), reverse=True)
        return results[:top_k]


class OrtSentenceEncoder:
    """A ``SentenceTransformer`` whose transformer runs on ONNX Runtime: texts are tokenized by the
    model's own ``preprocess``, the exported transformer gives the token embeddings, and the model's
    remaining modules (pooling, normalization) run as they are. :meth:`encode` answers as
    ``SentenceTransformer.encode`` for what Haystack's embedders ask (float32 vectors, optional
    normalization); anything else is handed to the PyTorch model."""

    def __init__(self, model: Any, session: Any, path: Path) -> None:
        self.model = model
        self.session = session
        self.path = path
        self.input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def from_sentence_transformer(
        cls, model: Any, *, cache_dir: Path | None = None, threads: int | None = None
    ) -> OrtSentenceEncoder:
        example = model_inputs(model.preprocess(["a passage", "another passage of text"]))
        path = cached_export(
            model[0].model,
            example,
            ["last_hidden_state"],
            kind="embedder",
            cache_dir=cache_dir,
            output_axes={0: "batch", 1: "sequence"},
        )
        return cls(model, ort_session(path, threads), path)

    def __getattr__(self, name: str) -> Any:  # everything else (dimension, tokenizer, ...) as the model's
        if name == "model" or name.startswith("__"):  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.model, name)

    def encode(
        self,
        inputs: list[str],
        *,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        normalize_embeddings: bool = False,
        precision: str = "float32",
        convert_to_numpy: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Sentence embeddings of ``inputs`` as a ``(len(inputs), dim)`` float32 array, longest
        first in batches as sentence-transformers does."""
        import numpy as np
        import torch
        from tqdm.auto import tqdm

        if precision != "float32" or not convert_to_numpy or kwargs or isinstance(inputs, str):
            return self.model.encode(
                inputs,
                batch_size=batch_size,
                show_progress_bar=show_progress_bar,
                normalize_embeddings=normalize_embeddings,
                precision=precision,
                convert_to_numpy=convert_to_numpy,
                **kwargs,
            )
        order = np.argsort([-len(t) for t in inputs], kind="stable")
        out = np.zeros((len(inputs), self.model.get_embedding_dimension()), dtype=np.float32)
        steps = range(0, len(inputs), batch_size)
        for i in tqdm(steps, desc="Batches", disable=not show_progress_bar):
            idx = order[i : i + batch_size]
            features = self.model.preprocess([inputs[j] for j in idx])
            (hidden,) = self.session.run(None, {n: features[n].cpu().numpy() for n in self.input_names})
            features[self.model[0].module_output_name] = torch.from_numpy(hidden)
            with torch.inference_mode():
                for module in list(self.model)[1:]:
                    features = module(features)
            vectors = features["sentence_embedding"]
            if normalize_embeddings:
                vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
            out[idx] = vectors.numpy()
        return out


#: ONNX copies of shared embedding backends, by id of the PyTorch backend
_ONNX_BACKENDS: dict[int, tuple[Any, Any]] = {}


def onnx_embedding_backend(backend: Any) -> Any:
    """A copy of a Haystack sentence-transformers embedding backend whose model runs on ONNX Runtime
    (:class:`OrtSentenceEncoder`); the PyTorch backend Haystack shares between embedders is left as
    it is. Cached, so a document and a text embedder of one model share one session."""
    import copy

    key = id(backend)
    if key not in _ONNX_BACKENDS:
        wrapped = copy.copy(backend)
        wrapped.model = OrtSentenceEncoder.from_sentence_transformer(backend.model)
        _ONNX_BACKENDS[key] = (backend, wrapped)  # holding the original keeps its id unique
    return _ONNX_BACKENDS[key][1]


def clear_onnx_backends() -> None:
    """Forget the cached ONNX backends (benchmarks that time model loading start from nothing)."""
    _ONNX_BACKENDS.clear()
