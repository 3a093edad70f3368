"""The extractive reader of transformers-haystack with a limit on answer length.

Upstream decodes a span as any (start, end) with start <= end inside the passage, so a weak or
uncalibrated reader can return a 60-word "answer"; SQuAD-style decoding (BERT, the SQuAD scorer,
odqa's own training-time evaluation in :func:`odqa.train.qa_features.decode_best_span`) only
considers spans of at most ``max_answer_length`` tokens. This subclass adds that limit, an int8
``precision`` for CPUs, and leaves everything else (windows, no-answer, calibration,
de-duplication) to upstream.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from haystack import component
from haystack.utils import ComponentDevice, Secret
from haystack_integrations.components.readers.transformers import TransformersExtractiveReader

from odqa.utils.onnx_runtime import Backend, OrtQuestionAnswering, check_backend
from odqa.utils.quantization import Int8Layers, check_precision, quantize_int8

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from tokenizers import Encoding


#: upstream's default token: read from the environment, never serialised in clear
_HF_TOKEN = Secret.from_env_var(["HF_API_TOKEN", "HF_TOKEN"], strict=False)


@component
class OdqaExtractiveReader(TransformersExtractiveReader):
    """``TransformersExtractiveReader`` that only returns spans of at most ``max_answer_length``
    tokens (``None``: no limit, upstream's behaviour).

    A span's score is upstream's: :math:`\\sigma(c \\cdot (s_i + e_j))` for start logit
    :math:`s_i` and end logit :math:`e_j` with calibration factor :math:`c`; only spans with
    :math:`0 \\le j - i < L` inside the passage are candidates.

    ``precision="int8"`` quantizes linear layers to int8 when the model is loaded on a CPU (PyTorch
    dynamic quantization: per-channel int8 weights, activations quantized per batch at run time); on
    a GPU it stays as loaded. ``int8_layers`` picks them: ``all``, or ``attention`` (the attention
    projections only). Measured with the ``base`` reader on 1,000 SQuAD dev part A questions, gold
    paragraph, 2-core AMD EPYC: fp32 F1 75.8 at 27.5 ms/question; ``all`` 73.9 (-1.9, p .009) at
    10.0 ms; ``attention`` 75.7 (-0.05, p .88) at 22.4 ms (per-tensor weights lost 8 F1). Off by
    default (``all`` loses more than 0.5 F1; ``attention`` gains little time): README, "Quantized
    reader".

    ``backend="onnx"`` runs the same fp32 model with ONNX Runtime on a CPU (exported once and cached
    by the weights' fingerprint, :mod:`odqa.utils.onnx_runtime`): the same start/end logits (within
    1e-5) in about half the time. On a GPU the PyTorch model is kept. ``backend`` picks the runtime
    of the fp32 model: ``precision="int8"`` is always PyTorch's int8 model (the one measured).

    Usage::

        reader = OdqaExtractiveReader(model="models/reader", max_answer_length=30, no_answer=False)
        reader.warm_up()
        reader.run(query="Who founded Warsaw?", documents=docs)["answers"]
    """

    def __init__(
        self,
        *,
        model: Path | str = "deepset/roberta-base-squad2-distilled",
        device: ComponentDevice | None = None,
        token: Secret | None = _HF_TOKEN,
        top_k: int = 20,
        score_threshold: float | None = None,
        max_seq_length: int = 384,
        stride: int = 128,
        max_batch_size: int | None = None,
        answers_per_seq: int | None = None,
        no_answer: bool = True,
        calibration_factor: float = 0.1,
        overlap_threshold: float | None = 0.01,
        model_kwargs: dict[str, Any] | None = None,
        max_answer_length: int | None = 30,
        precision: Literal["fp32", "int8"] = "fp32",
        int8_layers: Int8Layers = "all",
        backend: Backend = "torch",
    ) -> None:
        check_precision(precision, int8_layers)
        check_backend(backend)
        if max_answer_length is not None and max_answer_length < 1:
            raise ValueError(f"max_answer_length must be >= 1 or None, got {max_answer_length}")
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        # explicit base calls: @component rebuilds the class, which breaks zero-argument super()
        TransformersExtractiveReader.__init__(
            self,
            model=model,
            device=device,
            token=token,
            top_k=top_k,
            score_threshold=score_threshold,
            max_seq_length=max_seq_length,
            stride=stride,
            max_batch_size=max_batch_size,
            answers_per_seq=answers_per_seq,
            no_answer=no_answer,
            calibration_factor=calibration_factor,
            overlap_threshold=overlap_threshold,
            model_kwargs=model_kwargs,
        )
        self.max_answer_length = max_answer_length
        self.precision = precision
        self.int8_layers = int8_layers
        self.backend = backend

    def to_dict(self) -> dict[str, Any]:
        data = TransformersExtractiveReader.to_dict(self)
        data["init_parameters"]["max_answer_length"] = self.max_answer_length
        data["init_parameters"]["precision"] = self.precision
        data["init_parameters"]["int8_layers"] = self.int8_layers
        data["init_parameters"]["backend"] = self.backend
        return data

    def warm_up(self) -> None:
        """Load the model (upstream), then quantize it when ``precision`` is ``int8``, or hand it to
        ONNX Runtime when ``backend`` is ``onnx``, on a CPU."""
        loaded = self.model is not None
        TransformersExtractiveReader.warm_up(self)
        if loaded or self.model is None:
            return
        if self.precision == "int8":
            self.model = quantize_int8(self.model, self.int8_layers)
        elif self.backend == "onnx" and next(self.model.parameters()).device.type == "cpu":
            self.model = OrtQuestionAnswering.from_torch(self.model)

    def _postprocess(
        self,
        *,
        start: torch.Tensor,
        end: torch.Tensor,
        sequence_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        answers_per_seq: int,
        encodings: list[Encoding],
    ) -> tuple[list[list[int]], list[list[int]], list[torch.Tensor]]:
        """Top ``answers_per_seq`` spans of each window: character starts, ends and probabilities."""
        import torch

        in_passage = (sequence_ids == 1) & (attention_mask == 1)
        neg_inf = torch.tensor(float("-inf"), device=start.device, dtype=start.dtype)
        s = torch.where(in_passage, start, neg_inf)
        e = torch.where(in_passage, end, neg_inf)
        n = s.shape[-1]
        # allowed[i, j]: end j is not before start i and the span is at most max_answer_length long
        allowed = torch.ones(n, n, dtype=torch.bool, device=s.device).triu()
        if self.max_answer_length is not None:
            allowed &= ~torch.ones(n, n, dtype=torch.bool, device=s.device).triu(self.max_answer_length)
        span_logits = torch.where(allowed, s.unsqueeze(-1) + e.unsqueeze(-2), neg_inf)
        probs = torch.sigmoid(span_logits * self.calibration_factor).flatten(-2)
        best = torch.topk(probs, min(answers_per_seq, probs.shape[-1]))
        values, flat = best.values.cpu(), best.indices.cpu()

        starts: list[list[int]] = []
        ends: list[list[int]] = []
        kept: list[torch.Tensor] = []
        for row_values, row_flat, encoding in zip(values, flat, encodings, strict=True):
            ok = row_values > 0  # masked spans have probability 0
            row_starts, row_ends = [], []
            for idx in row_flat[ok].tolist():
                first, last = divmod(idx, n)
                first_chars, last_chars = encoding.token_to_chars(first), encoding.token_to_chars(last)
                if first_chars is None or last_chars is None:  # cannot happen inside the passage
                    raise RuntimeError(f"span ({first}, {last}) maps to no characters")
                row_starts.append(first_chars[0])
                row_ends.append(last_chars[1])
            starts.append(row_starts)
            ends.append(row_ends)
            kept.append(row_values[ok])
        return starts, ends, kept
