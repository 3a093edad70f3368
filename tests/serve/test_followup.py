"""Follow-up questions: the pronoun of a question without an entity of its own takes the previous
turn's referent."""

from __future__ import annotations

import pytest

from odqa.serve.followup import resolve_followup
from odqa.serve.schemas import PreviousTurn

TESLA = PreviousTurn(question="Who invented the AC motor?", answer="Nikola Tesla", entities=["AC"])
WARSAW = PreviousTurn(question="What is the largest city in Poland?", answer="Warsaw", entities=["Poland"])
YEAR = PreviousTurn(
    question="When did Tesla move to New York?", answer="1884", entities=["Tesla", "New York"]
)


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("When did he die?", TESLA, "When did Nikola Tesla die?"),
        ("What was his nationality?", TESLA, "What was Nikola Tesla's nationality?"),
        (
            "Who was her husband?",
            PreviousTurn(question="Who discovered polonium?", answer="Marie Curie"),
            "Who was Marie Curie's husband?",
        ),
        ("Where did he work?", YEAR, "Where did Tesla work?"),  # the answer is a year: the question's entity
        ("What is its population?", WARSAW, "What is Warsaw's population?"),  # "what" asked for it
        (
            "When did he die?",
            PreviousTurn(question="Where was Tesla born?", answer="Smiljan", entities=["Tesla"]),
            "When did Tesla die?",
        ),  # a place answer is not "he"
        ("When did Tesla die?", TESLA, None),  # its own entity: not a follow-up
        ("When did he die?", None, None),
        ("How old is the universe?", TESLA, None),  # no pronoun
        ("When did he die?", PreviousTurn(question="how many?", answer="8"), None),  # nothing to refer to
    ],
)
def test_resolve_followup(question: str, previous: PreviousTurn | None, expected: str | None) -> None:
    assert resolve_followup(question, previous) == expected
