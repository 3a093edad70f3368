"""Length-grouped batching and dynamic padding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from odqa.train.batching import length_grouped_batches, pad_batch


def _lengths(n: int = 500, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(20, 400) for _ in range(n)]


def test_every_index_once_and_batch_sizes() -> None:
    lengths = _lengths()
    batches = length_grouped_batches(lengths, batch_size=16, seed=1, mega_batch_mult=4)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(lengths)))
    assert all(1 <= len(b) <= 16 for b in batches)
    assert sum(len(b) == 16 for b in batches) >= len(batches) - 8  # only mega-batch tails are short


def test_grouping_cuts_padding() -> None:
    lengths = _lengths()

    def padded_tokens(batches: list[list[int]]) -> int:
        return sum(len(b) * max(lengths[i] for i in b) for b in batches)

    grouped = length_grouped_batches(lengths, batch_size=16, seed=1, mega_batch_mult=50)
    plain = length_grouped_batches(lengths, batch_size=16, seed=1, mega_batch_mult=1)
    assert padded_tokens(grouped) < 0.75 * padded_tokens(plain)
    # inside a batch the lengths are close: within a mega-batch items are sorted
    spreads = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in grouped]
    assert sum(spreads) / len(spreads) < 40


def test_order_is_seeded() -> None:
    lengths = _lengths()
    assert length_grouped_batches(lengths, 8, seed=3) == length_grouped_batches(lengths, 8, seed=3)
    assert length_grouped_batches(lengths, 8, seed=3) != length_grouped_batches(lengths, 8, seed=4)


def test_bad_batch_size() -> None:
    with pytest.raises(ValueError):
        length_grouped_batches([1, 2], batch_size=0, seed=0)


def test_pad_batch_pads_to_longest_in_batch() -> None:
    feats = [
        {"input_ids": [101, 5, 102], "attention_mask": [1, 1, 1], "start_positions": 1},
        {"input_ids": [101, 102], "attention_mask": [1, 1], "start_positions": 0},
    ]
    batch = pad_batch(feats, pad_token_id=7)
    assert batch["input_ids"].tolist() == [[101, 5, 102], [101, 102, 7]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["start_positions"].tolist() == [1, 0]
    assert batch["start_positions"].dtype == torch.long


def test_pad_batch_compact_arrays_get_an_attention_mask() -> None:
    feats = [
        {
            "input_ids": np.array([101, 5, 6, 102], dtype=np.int32),
            "token_type_ids": np.array([0, 0, 1, 1], np.int8),
        },
        {"input_ids": np.array([101, 102], dtype=np.int32), "token_type_ids": np.array([0, 1], np.int8)},
    ]
    batch = pad_batch(feats, pad_token_id=0)
    assert batch["input_ids"].dtype == torch.long
    assert batch["input_ids"].tolist() == [[101, 5, 6, 102], [101, 102, 0, 0]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 1, 1], [0, 1, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]


def test_pad_batch_multiple_of() -> None:
    batch = pad_batch([{"input_ids": [1, 2, 3]}], pad_token_id=0, pad_to_multiple_of=8)
    assert batch["input_ids"].shape == (1, 8)


def test_pad_batch_empty() -> None:
    with pytest.raises(ValueError):
        pad_batch([], pad_token_id=0)
