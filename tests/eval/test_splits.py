"""The one query split every qrels-learning command and ``odqa eval --queries`` share."""

from __future__ import annotations

import pytest

from odqa.eval.splits import query_split


def test_split_is_seeded_disjoint_complete_and_order_independent() -> None:
    qids = [str(i) for i in range(20)]
    train, dev = query_split(qids, 0.5, 13)
    assert len(dev) == 10 and set(train).isdisjoint(dev) and set(train) | set(dev) == set(qids)
    assert query_split(list(reversed(qids)), 0.5, 13) == (train, dev)
    assert query_split(qids, 0.5, 14) != (train, dev)
    assert query_split(qids) == (train, dev)  # the defaults: half, seed 13


def test_share_zero_trains_on_everything_and_bad_shares_are_refused() -> None:
    qids = [f"q{i}" for i in range(10)]
    assert query_split(qids, 0.0) == (sorted(qids), [])
    tune, test = query_split(qids, 0.3, 1)
    assert len(test) == 3 and len(tune) == 7
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match="dev share"):
            query_split(qids, bad)
    assert query_split(["only"], 0.99) == (["only"], [])
