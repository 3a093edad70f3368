"""SQuAD v1.1 exact match / F1 and answer-in-passages."""

from __future__ import annotations

import pytest

from odqa.eval.qa import answer_in_passages, exact_match, f1, normalize_answer, squad_scores


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  Eiffel   tower. ", "eiffel tower"),
        ("An apple, a pear & the fig!", "apple pear fig"),
        ("Theatre anthem", "theatre anthem"),  # articles only as whole words
        ("U.S.-based", "usbased"),  # punctuation removed, not replaced by a space
        ("", ""),
    ],
)
def test_normalize_answer(text: str, normalised: str) -> None:
    assert normalize_answer(text) == normalised


def test_exact_match() -> None:
    assert exact_match("The Eiffel Tower", ["Eiffel tower"]) == 1.0
    assert exact_match("Eiffel Tower in Paris", ["Eiffel tower"]) == 0.0
    assert exact_match("1889", ["in 1889", "1889."]) == 1.0  # max over golds
    assert exact_match("Paris", "paris") == 1.0  # a single gold string
    with pytest.raises(ValueError, match="gold_answers is empty"):
        exact_match("Paris", [])


def test_f1_by_hand() -> None:
    # prediction tokens: eiffel tower in paris (4); gold: eiffel tower (2); common 2
    # precision 2/4, recall 2/2 -> F1 = 2 * .5 * 1 / 1.5 = 2/3
    assert f1("the Eiffel Tower in Paris", ["Eiffel Tower"]) == pytest.approx(2 / 3)
    # big red apple / red apple pie: common 2, precision = recall = 2/3 -> F1 = 2/3
    assert f1("big red apple", ["red apple pie"]) == pytest.approx(2 / 3)
    # multiset overlap: new new york vs new york -> common {new: 1, york: 1} = 2
    # precision 2/3, recall 1 -> F1 = 2 * (2/3) / (5/3) = 0.8
    assert f1("new new york", ["New York"]) == pytest.approx(0.8)
    # max over golds: vs "Paris" -> P 1/2, R 1 -> 2/3; vs "Paris France" -> 1
    assert f1("Paris, France", ["Paris", "Paris France"]) == 1.0
    assert f1("Paris, France", ["Paris"]) == pytest.approx(2 / 3)
    assert f1("London", ["Paris"]) == 0.0
    # v1.1: empty normalised strings score 0, even against each other
    assert f1("the", ["a"]) == 0.0
    assert exact_match("the", ["a"]) == 1.0


def test_squad_scores_are_percentages() -> None:
    golds = {"q1": ["The Eiffel Tower"], "q2": ["Eiffel Tower"], "q3": ["1889"], "q4": ["x"]}
    predictions = {"q1": "Eiffel tower", "q2": "the Eiffel Tower in Paris", "q3": "in 1889", "other": "y"}
    scores = squad_scores(predictions, golds)
    # EM: q1 only -> 1/4. F1: 1 + 2/3 + (P 1/2, R 1 -> 2/3) + 0 (missing) over 4
    assert scores["exact_match"] == pytest.approx(25.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 2 / 3) / 4)
    assert scores["total"] == 4 and scores["missing"] == 1
    assert squad_scores({}, {}) == {"exact_match": 0.0, "f1": 0.0, "total": 0.0, "missing": 0.0}
    with pytest.raises(ValueError, match="'q1'"):
        squad_scores({"q1": "a"}, {"q1": []})


def test_answer_in_passages() -> None:
    passages = [
        "The party was held in Paris.",
        "Construction of the Eiffel Tower finished in 1889.",
        "The U.S. entered the war.",
    ]
    assert answer_in_passages(passages, ["eiffel tower"], k=2)
    assert not answer_in_passages(passages, ["eiffel tower"], k=1)  # only the top-1 passage
    assert answer_in_passages(passages, ["1889", "Gustave"], k=5)  # k beyond the list
    assert not answer_in_passages(passages, ["art"], k=3)  # whole tokens only, not in "party"
    assert answer_in_passages(passages, ["US"], k=3)  # "U.S." normalises to "us"
    assert answer_in_passages(passages, "Paris", k=1)
    assert not answer_in_passages(passages, ["the", ""], k=3)  # empty after normalisation
    assert not answer_in_passages([], ["Paris"], k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        answer_in_passages(passages, ["Paris"], k=0)
