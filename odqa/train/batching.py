"""Batches for CPU-friendly training: length-grouped order and dynamic padding.

Padding every sequence to ``max_length`` wastes most of the compute on CPU (SQuAD windows are ~170
tokens at ``max_length=384``). Two things fix that:

* :func:`length_grouped_batches` shuffles the data, cuts it into *mega-batches* of
  ``batch_size * mega_batch_mult`` items and sorts each mega-batch by length, so a batch holds
  sequences of similar length while the order across batches stays random.
* :func:`pad_batch` pads a batch only to its own longest sequence.

Features are stored as compact NumPy arrays (``input_ids`` int32, ``token_type_ids`` int8) without
an attention mask, which :func:`pad_batch` rebuilds: the full SQuAD train set or a few hundred
thousand re-ranker pairs then fit in a few hundred MB instead of gigabytes of Python ints.

The order depends only on ``(seed, epoch)``, so a resumed run can rebuild an epoch's batches and
skip the ones it already consumed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

#: Keys padded with the tokenizer's pad id; every other sequence key is padded with 0.
_PAD_ID_KEYS = frozenset({"input_ids"})


def length_grouped_batches(
    lengths: Sequence[int], batch_size: int, seed: int, mega_batch_mult: int = 50
) -> list[list[int]]:
    """Indices of ``lengths`` grouped into batches of similar length, in a seeded random order.

    :param lengths: the length (in tokens) of every item.
    :param batch_size: items per batch (the last batch of a mega-batch may be smaller).
    :param seed: the shuffle seed; the trainers pass ``seed + epoch``.
    :param mega_batch_mult: mega-batch size in batches; ``1`` means plain random batches.
    :returns: a list of batches, each a list of item indices; every index appears exactly once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = max(1, batch_size * max(1, mega_batch_mult))
    batches: list[list[int]] = []
    for start in range(0, len(order), mega):
        chunk = sorted(order[start : start + mega], key=lambda i: lengths[i], reverse=True)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def compact_inputs(encoding: Any, i: int) -> dict[str, np.ndarray]:
    """Row ``i`` of a tokenizer output as compact arrays: ``input_ids`` (int32) and, when the
    tokenizer makes them, ``token_type_ids`` (int8); no attention mask (see :func:`pad_batch`)."""
    out = {"input_ids": np.asarray(encoding["input_ids"][i], dtype=np.int32)}
    if "token_type_ids" in encoding:
        out["token_type_ids"] = np.asarray(encoding["token_type_ids"][i], dtype=np.int8)
    return out


def pad_batch(
    features: Sequence[Mapping[str, Any]],
    pad_token_id: int,
    pad_to_multiple_of: int | None = None,
) -> dict[str, torch.Tensor]:
    """Stack tokenised features into tensors, padding sequences to the batch's longest one.

    Sequence-valued keys (``input_ids``, ``token_type_ids``, ...; lists or NumPy arrays) are
    right-padded (``input_ids`` with ``pad_token_id``, the others with 0); scalar keys (labels,
    positions) become a 1-d tensor. All features must have the same keys. Without an
    ``attention_mask`` key, one is made: 1 over each sequence, 0 over its padding.

    :param pad_to_multiple_of: round the padded length up (8 helps tensor cores on GPU).
    """
    if not features:
        raise ValueError("cannot pad an empty batch")
    out: dict[str, torch.Tensor] = {}
    lengths = [len(f["input_ids"]) for f in features]
    width = max(lengths)
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    for key in features[0]:
        values = [f[key] for f in features]
        if isinstance(values[0], int | float):
            dtype = torch.float32 if isinstance(values[0], float) else torch.long
            out[key] = torch.tensor(values, dtype=dtype)
            continue
        padded = np.full((len(values), width), pad_token_id if key in _PAD_ID_KEYS else 0, dtype=np.int64)
        for row, seq in enumerate(values):
            padded[row, : len(seq)] = seq
        out[key] = torch.from_numpy(padded)
    if "attention_mask" not in out:
        out["attention_mask"] = (torch.arange(width)[None, :] < torch.tensor(lengths)[:, None]).long()
    return out
