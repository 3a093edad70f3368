"""SQuAD-style features for extractive QA: sliding windows, span labels and span decoding.

A question and its context are tokenised together (``question [SEP] context``); a context longer
than ``max_length`` is cut into overlapping windows (``doc_stride`` tokens of overlap). A training
window is labelled with the answer's first and last token, or with ``[CLS]`` (position 0) when the
answer is not wholly inside the window. At evaluation, :func:`decode_best_span` picks the best
``start <= end`` pair among the top-n start and end logits of the context tokens, at most
``max_answer_length`` tokens long, and maps it back to characters through the offsets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from odqa.corpus.types import QAExample
from odqa.train.batching import compact_inputs

#: Examples tokenised per tokenizer call (bounds memory on the full SQuAD train set).
_CHUNK = 1000


@dataclass
class EvalFeature:
    """One evaluation window: model inputs plus what is needed to map logits back to text.

    ``offsets[i]`` is the character span of token i in the context, or ``None`` for question and
    special tokens.
    """

    example_index: int
    inputs: dict[str, np.ndarray]
    offsets: list[tuple[int, int] | None]


def _encode(tokenizer: Any, examples: Sequence[QAExample], max_length: int, doc_stride: int) -> Any:
    return tokenizer(
        [ex.question.lstrip() for ex in examples],
        [ex.context for ex in examples],
        truncation="only_second",
        max_length=max_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )


def answer_token_span(
    offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None], start_char: int, end_char: int
) -> tuple[int, int]:
    """Token indices of the answer ``[start_char, end_char)`` in one window; ``(0, 0)`` if outside it."""
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    if not context:
        return 0, 0
    first, last = context[0], context[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return 0, 0
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def train_features(
    tokenizer: Any, examples: Sequence[QAExample], max_length: int, doc_stride: int
) -> list[dict[str, Any]]:
    """Training windows with ``start_positions``/``end_positions`` (the first answer of each example)."""
    features: list[dict[str, Any]] = []
    for lo in range(0, len(examples), _CHUNK):
        chunk = examples[lo : lo + _CHUNK]
        enc = _encode(tokenizer, chunk, max_length, doc_stride)
        for i, ex_index in enumerate(enc["overflow_to_sample_mapping"]):
            ex = chunk[ex_index]
            start_char = ex.answer_starts[0]
            end_char = start_char + len(ex.answers[0])
            start, end = answer_token_span(
                enc["offset_mapping"][i], enc.sequence_ids(i), start_char, end_char
            )
            features.append({**compact_inputs(enc, i), "start_positions": start, "end_positions": end})
    return features


def negative_features(
    tokenizer: Any, pairs: Sequence[tuple[str, str]], max_length: int
) -> list[dict[str, Any]]:
    """One no-answer window per ``(question, context)`` pair: the context's first ``max_length``
    tokens, labelled with ``[CLS]`` (position 0) as start and end.

    Trained beside the answer windows, these teach the reader that a passage without the answer
    should score low, so that span scores stay comparable across the passages a pipeline reads.
    """
    features: list[dict[str, Any]] = []
    for lo in range(0, len(pairs), _CHUNK):
        chunk = pairs[lo : lo + _CHUNK]
        enc = tokenizer(
            [q.lstrip() for q, _ in chunk],
            [c for _, c in chunk],
            truncation="only_second",
            max_length=max_length,
            padding=False,
        )
        for i in range(len(chunk)):
            features.append({**compact_inputs(enc, i), "start_positions": 0, "end_positions": 0})
    return features


def eval_features(
    tokenizer: Any, examples: Sequence[QAExample], max_length: int, doc_stride: int
) -> list[EvalFeature]:
    """Evaluation windows of every example, each pointing back to its example's index."""
    features: list[EvalFeature] = []
    for lo in range(0, len(examples), _CHUNK):
        enc = _encode(tokenizer, examples[lo : lo + _CHUNK], max_length, doc_stride)
        for i, ex_index in enumerate(enc["overflow_to_sample_mapping"]):
            seq = enc.sequence_ids(i)
            offsets = [
                tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq, strict=True)
            ]
            features.append(EvalFeature(lo + ex_index, compact_inputs(enc, i), offsets))
    return features


def decode_best_span(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    n_best: int = 20,
    max_answer_length: int = 30,
) -> tuple[float, int, int] | None:
    """The best-scoring span of one window as ``(score, start_char, end_char)``, or ``None``.

    Candidates are the ``n_best`` highest start and end logits over context tokens; a pair is valid
    when both are context tokens, ``start <= end`` and it spans at most ``max_answer_length``
    tokens. The score is ``start_logit + end_logit``.
    """
    n = min(len(offsets), len(start_logits))
    starts = [int(i) for i in np.argsort(start_logits[:n])[::-1] if offsets[i] is not None][:n_best]
    ends = [int(i) for i in np.argsort(end_logits[:n])[::-1] if offsets[i] is not None][:n_best]
    best: tuple[float, int, int] | None = None
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > max_answer_length:
                continue
            score = float(start_logits[s] + end_logits[e])
            if best is None or score > best[0]:
                s_off, e_off = offsets[s], offsets[e]
                assert s_off is not None and e_off is not None
                best = (score, s_off[0], e_off[1])
    return best
