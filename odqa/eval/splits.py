"""One seeded split of judged queries into a training and a development part, shared by every
command that learns from qrels (``odqa train retriever``, ``odqa train reranker`` on a BEIR
collection, ``odqa tune fusion``) and by ``odqa eval --queries train|dev``, so a figure reported
on "the dev half" always means the same queries.

Usage::

    from odqa.eval.splits import query_split
    train, dev = query_split(["q1", "q2", "q3", "q4"])  # the default: half, seed 13
"""

from __future__ import annotations

import random
from collections.abc import Iterable

#: The default split: half of the judged queries, drawn with seed 13 (SciFact train: 405 / 404).
DEV_SHARE = 0.5
SPLIT_SEED = 13


def query_split(
    qids: Iterable[str], dev_share: float = DEV_SHARE, seed: int = SPLIT_SEED
) -> tuple[list[str], list[str]]:
    """``(train, dev)``, both sorted: ``dev`` is ``random.Random(seed).sample`` of
    ``int(len(qids) * dev_share)`` of the sorted, distinct query ids, so the split does not depend
    on the order the ids come in. ``dev_share`` 0: every query trains and ``dev`` is empty.

    :raises ValueError: ``dev_share`` outside [0, 1) (a share below 1 always leaves a training query).
    """
    if not 0.0 <= dev_share < 1.0:
        raise ValueError(f"dev share must be in [0, 1), got {dev_share}")
    judged = sorted(set(qids))
    dev = set(random.Random(seed).sample(judged, int(len(judged) * dev_share)))
    return [q for q in judged if q not in dev], sorted(dev)
