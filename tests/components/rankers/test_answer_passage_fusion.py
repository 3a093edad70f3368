"""AnswerPassageFusion: the BERTserini-style answer score, its round trip and its validation."""

from __future__ import annotations

import math

import pytest
from haystack import Document
from haystack.dataclasses import ExtractedAnswer

from odqa.components.rankers.answer_passage_fusion import AnswerPassageFusion, passage_signal

C = 0.1


def _answer(text: str, span_logit: float, doc: Document) -> ExtractedAnswer:
    prob = 1 / (1 + math.exp(-C * span_logit))
    return ExtractedAnswer(query="q", score=prob, data=text, document=doc)


def _docs() -> list[Document]:
    return [
        Document(id="a", content="first passage", score=0.9),
        Document(id="b", content="second passage", score=0.2),
        Document(id="c", content="third passage", score=0.01),
    ]


def test_weight_zero_changes_no_order_and_no_score() -> None:
    docs = _docs()
    answers = [_answer("x", 9.0, docs[2]), _answer("y", 7.0, docs[0]), _answer("z", 3.0, docs[1])]
    out = AnswerPassageFusion(weight=0.0).run(answers=answers, documents=docs)["answers"]
    assert [a.data for a in out] == ["x", "y", "z"]
    assert [a.score for a in out] == pytest.approx([a.score for a in answers], rel=1e-9)


def test_rank_signal_lifts_the_answer_from_the_first_passage() -> None:
    docs = _docs()
    # the span in the third passage looks 2 logits better; w * ln 3 = 2.2 outweighs it
    answers = [_answer("wrong", 9.0, docs[2]), _answer("right", 7.0, docs[0])]
    out = AnswerPassageFusion(signal="rank", weight=2.0).run(answers=answers, documents=docs)["answers"]
    assert [a.data for a in out] == ["right", "wrong"]
    assert out[0].meta["passage_term"] == 0.0
    assert out[1].meta["passage_term"] == pytest.approx(-math.log(3))
    # the fused score is sigma(c * (logit + w * g))
    assert out[1].score == pytest.approx(1 / (1 + math.exp(-C * (9.0 - 2.0 * math.log(3)))))
    assert out[1].meta["reader_score"] == pytest.approx(answers[0].score)


def test_score_signal_uses_the_passage_logit() -> None:
    docs = _docs()
    assert passage_signal("score", docs[0], docs) == pytest.approx(math.log(0.9 / 0.1))
    assert passage_signal("score", Document(id="n", content="no score"), docs) == 0.0
    answers = [_answer("wrong", 8.0, docs[2]), _answer("right", 7.0, docs[0])]
    out = AnswerPassageFusion(signal="score", weight=0.5).run(answers=answers, documents=docs)["answers"]
    assert out[0].data == "right"


def test_unread_passages_rank_last_and_rank_needs_the_read_passages() -> None:
    docs = _docs()
    assert passage_signal("rank", Document(id="zz", content="?"), docs) == pytest.approx(-math.log(4))
    answers = [_answer("p", 5.0, docs[1]), _answer("q", 4.9, docs[0])]
    out = AnswerPassageFusion(weight=1.0, top_k=1).run(answers=answers, documents=docs)["answers"]
    assert [a.data for a in out] == ["q"]  # reader's order p, q; passage ranks 2 and 1 swap them
    with pytest.raises(ValueError, match="needs the passages"):
        AnswerPassageFusion(signal="rank", weight=1.0).run(answers=answers)
    assert AnswerPassageFusion(signal="score", weight=1.0).run(answers=answers)["answers"]


def test_no_answer_passes_through() -> None:
    docs = _docs()
    none = ExtractedAnswer(query="q", score=0.3, data=None, document=None)
    out = AnswerPassageFusion(weight=1.0).run(answers=[none, _answer("x", 20.0, docs[0])], documents=docs)
    assert out["answers"][1] is none


def test_round_trip_and_validation() -> None:
    fusion = AnswerPassageFusion(signal="score", weight=1.5, top_k=4)
    again = AnswerPassageFusion.from_dict(fusion.to_dict())
    assert again.to_dict() == fusion.to_dict()
    with pytest.raises(ValueError, match="signal"):
        AnswerPassageFusion(signal="bm25")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weight"):
        AnswerPassageFusion(weight=-1)
    with pytest.raises(ValueError, match="top_k"):
        AnswerPassageFusion(top_k=0)
    with pytest.raises(ValueError, match="calibration"):
        AnswerPassageFusion(calibration_factor=0)
    with pytest.raises(ValueError, match="signal"):
        passage_signal("nope", _docs()[0], _docs())
