"""Sliding windows, span labels and span decoding for the reader."""

from __future__ import annotations

from typing import Any

import numpy as np

from odqa.corpus.types import QAExample
from odqa.train.qa_features import decode_best_span, eval_features, train_features

CONTEXT = (
    "Super Bowl 50 was an American football game to determine the champion of the National Football "
    "League (NFL) for the 2015 season. The American Football Conference (AFC) champion Denver Broncos "
    "defeated the National Football Conference (NFC) champion Carolina Panthers 24-10 to earn their "
    "third Super Bowl title. The game was played on February 7, 2016, at Levi's Stadium in the San "
    "Francisco Bay Area at Santa Clara, California."
)


def _example(answer: str, question: str = "Which team won Super Bowl 50?") -> QAExample:
    start = CONTEXT.index(answer)
    return QAExample("q1", question, CONTEXT, [answer], [start], "d1", "Super Bowl 50")


def _decode_labels(tokenizer: Any, feature: dict[str, Any]) -> str:
    ids = feature["input_ids"][feature["start_positions"] : feature["end_positions"] + 1]
    return str(tokenizer.decode(ids.tolist()))


def test_single_window_labels_the_answer(tokenizer: Any) -> None:
    feats = train_features(tokenizer, [_example("Denver Broncos")], max_length=384, doc_stride=128)
    assert len(feats) == 1
    assert _decode_labels(tokenizer, feats[0]) == "denver broncos"


def test_long_context_makes_windows_and_cls_labels(tokenizer: Any) -> None:
    ex = _example("Santa Clara, California")
    feats = train_features(tokenizer, [ex], max_length=48, doc_stride=16)
    assert len(feats) > 2
    assert all(len(f["input_ids"]) <= 48 for f in feats)
    labelled = [f for f in feats if f["start_positions"] > 0]
    assert labelled, "some window must contain the answer"
    assert all(_decode_labels(tokenizer, f) == "santa clara, california" for f in labelled)
    assert any(f["start_positions"] == 0 and f["end_positions"] == 0 for f in feats)  # answer elsewhere


def test_decode_maps_back_through_offsets(tokenizer: Any) -> None:
    ex = _example("February 7, 2016")
    feats = eval_features(tokenizer, [ex], max_length=384, doc_stride=128)
    (train,) = train_features(tokenizer, [ex], max_length=384, doc_stride=128)
    n = len(feats[0].offsets)
    start, end = np.zeros(n), np.zeros(n)
    start[train["start_positions"]] = 5.0
    end[train["end_positions"]] = 5.0
    span = decode_best_span(start, end, feats[0].offsets)
    assert span is not None
    assert CONTEXT[span[1] : span[2]] == "February 7, 2016"


def test_decode_ignores_question_tokens_and_long_spans(tokenizer: Any) -> None:
    ex = _example("Denver Broncos")
    (feat,) = eval_features(tokenizer, [ex], max_length=384, doc_stride=128)
    n = len(feat.offsets)
    start, end = np.zeros(n), np.zeros(n)
    start[1] = end[1] = 100.0  # a question token: never an answer
    first_ctx = next(i for i, o in enumerate(feat.offsets) if o is not None)
    start[first_ctx] = 10.0
    end[first_ctx + 40] = 10.0  # too long for max_answer_length=30
    end[first_ctx + 2] = 4.0
    span = decode_best_span(start, end, feat.offsets, n_best=20, max_answer_length=30)
    assert span is not None
    assert span[1] == feat.offsets[first_ctx][0]  # type: ignore[index]
    assert span[2] == feat.offsets[first_ctx + 2][1]  # type: ignore[index]


def test_decode_nothing_valid() -> None:
    assert decode_best_span(np.zeros(3), np.zeros(3), [None, None, None]) is None


def test_negative_pairs_and_validation_split_never_leak_answers_or_paragraphs() -> None:
    from odqa.corpus.types import QAExample
    from odqa.train.reader import negative_pairs, validation_split

    def ex(qid: str, title: str, context: str, answer: str) -> QAExample:
        return QAExample(
            qid, f"q {qid}?", context, [answer], [context.index(answer)], f"{title}-{context}", title
        )

    pool = [
        ex("1", "A", "Paris is the capital.", "Paris"),
        ex("2", "A", "Paris is the capital.", "capital"),
        ex("3", "A", "Lyon lies on the Rhone.", "Rhone"),
        ex("4", "A", "Paris hosts the Louvre.", "Louvre"),
        ex("5", "B", "Berlin is in Germany.", "Berlin"),
    ]
    train = pool[:2]
    pairs = negative_pairs(train, pool, ratio=2.0, seed=0)
    assert len(pairs) == 4  # 2 per question
    for question, context in pairs:
        source = next(e for e in train if e.question == question)
        assert context != source.context and source.answers[0] not in context  # never the answer
        assert context in {e.context for e in pool if e.title == "A"}  # same article only
    assert negative_pairs(train, pool, ratio=0.0, seed=0) == []
    kept, val = validation_split(pool, train, n=3, seed=0)
    assert kept == train and len(val) == 3  # enough unseen paragraphs: training untouched
    assert not {e.context for e in val} & {e.context for e in train}
    # the whole pool trains: whole paragraphs are held out of it, never shared with training
    kept, val = validation_split(pool, pool, n=2, seed=0)
    assert len(val) >= 2 and len(kept) + len(val) == len(pool)
    assert not {e.context for e in val} & {e.context for e in kept}
    assert validation_split(pool, pool, n=0, seed=0) == (pool, [])
