"""AnswerTypePrior: NER on candidate spans in their passage re-scores a reader's answers."""

from __future__ import annotations

import pytest
from haystack import Document
from haystack.dataclasses import ExtractedAnswer

from odqa.components.analyzers.entities import Entity
from odqa.components.rankers.answer_type_prior import AnswerTypePrior, span_label


@pytest.fixture(scope="module")
def prior() -> AnswerTypePrior:
    component = AnswerTypePrior(weight=0.5)
    component.warm_up()
    return component


def _answer(doc: Document, text: str, score: float, query: str = "q") -> ExtractedAnswer:
    start = (doc.content or "").index(text)
    span = ExtractedAnswer.Span(start, start + len(text))
    return ExtractedAnswer(query=query, score=score, data=text, document=doc, document_offset=span)


@pytest.fixture(scope="module")
def tesla(squad_passages: list[Document]) -> Document:
    doc = next(d for d in squad_passages if d.id == "Nikola_Tesla-0")
    assert (doc.content or "").startswith("Nikola Tesla (Serbian Cyrillic")
    return doc


def test_prefers_a_date_for_when(prior: AnswerTypePrior, tesla: Document) -> None:
    question = "When was Nikola Tesla born?"
    answers = [
        _answer(tesla, "Serbian American inventor", 0.6, question),
        _answer(tesla, "electrical engineer", 0.5, question),
        _answer(tesla, "10 July 1856", 0.4, question),
    ]
    out = prior.run(answers=answers, query=question)["answers"]  # types from the question itself
    assert [a.data for a in out] == ["10 July 1856", "electrical engineer", "Serbian American inventor"]
    by_text = {a.data: a for a in out}
    assert by_text["10 July 1856"].meta == {
        "reader_score": 0.4,
        "answer_type": "DATE",
        "type_match": "match",
        "prior": 1.0,
    }
    # "Serbian" and "American" are two NORP entities covering 15 of its 25 characters
    assert by_text["Serbian American inventor"].meta["answer_type"] == "NORP"
    assert by_text["Serbian American inventor"].meta["type_match"] == "mismatch"
    assert by_text["Serbian American inventor"].score == pytest.approx(0.3)
    assert by_text["electrical engineer"].meta["type_match"] == "untyped"
    assert by_text["electrical engineer"].score == pytest.approx(0.375)
    assert answers[0].score == 0.6 and not answers[0].meta  # inputs untouched


def test_prefers_a_place_for_where(prior: AnswerTypePrior, squad_passages: list[Document]) -> None:
    doc = next(d for d in squad_passages if "Smiljan" in (d.content or ""))
    answers = [_answer(doc, "1856", 0.7), _answer(doc, "Smiljan", 0.5)]
    out = prior.run(answers=answers, expected_types=["GPE", "LOC", "FAC"])["answers"]
    assert out[0].data == "Smiljan" and out[0].meta["answer_type"] in ("GPE", "LOC")


@pytest.mark.parametrize(
    ("weight", "expected_types", "query"),
    [
        (0.0, ["DATE"], None),  # the switch
        (None, [], None),  # "what ..." questions: no type, no change
        (None, None, "What does AC stand for?"),
        (None, None, None),
    ],
)
def test_no_op_cases(
    prior: AnswerTypePrior,
    tesla: Document,
    weight: float | None,
    expected_types: list[str] | None,
    query: str | None,
) -> None:
    component = AnswerTypePrior(weight=weight) if weight is not None else prior
    answers = [_answer(tesla, "Serbian American inventor", 0.6), _answer(tesla, "10 July 1856", 0.4)]
    out = component.run(answers=answers, expected_types=expected_types, query=query)["answers"]
    assert out == answers


def test_no_answer_and_detached_answers(prior: AnswerTypePrior) -> None:
    answers = [
        ExtractedAnswer(query="q", score=0.9, data=None),  # the reader's "no answer"
        ExtractedAnswer(query="q", score=0.8, data="Paris"),  # no document: typed from its own text
        ExtractedAnswer(query="q", score=0.5, data="1999"),  # numeric rule: DATE
    ]
    out = prior.run(answers=answers, expected_types=["DATE"])["answers"]
    assert out[0].data is None and out[0].score == 0.9 and not out[0].meta
    assert {a.data: a.meta.get("type_match") for a in out[1:]} == {"Paris": "mismatch", "1999": "match"}
    assert prior.run(answers=[], expected_types=["DATE"])["answers"] == []


def test_span_label_needs_half_the_span() -> None:
    ents = [Entity("Tesla", "PERSON", 10, 15), Entity("1856", "DATE", 20, 24)]
    assert span_label(ents, 10, 15) == "PERSON"
    assert span_label(ents, 6, 15) == "PERSON"  # 5 of 9 characters
    assert span_label(ents, 0, 15) is None  # 5 of 15
    assert span_label(ents, 20, 30) is None  # 4 of 10
    assert span_label(ents, 19, 25) == "DATE"  # 4 of 6
    assert span_label([], 0, 4) is None
    two = [Entity("Serbian", "NORP", 0, 7), Entity("American", "NORP", 8, 16)]
    assert span_label(two, 0, 25) == "NORP"  # 15 of 25 characters, summed over both
    with pytest.raises(ValueError, match="weight"):
        AnswerTypePrior(weight=1.5)
    prior = AnswerTypePrior(model="/m", backend="transformers", weight=0.25)
    assert AnswerTypePrior.from_dict(prior.to_dict()).to_dict() == prior.to_dict()
