"""Expected answer types from the question's form; numeric span types; entity keys."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from odqa.components.analyzers.answer_types import expected_answer_type, numeric_type
from odqa.components.analyzers.entities import Entity, canonical_label, entity_key, keys_match

DATE, PERSON_ORG, PLACE = ("DATE", "TIME"), ("PERSON", "ORG", "NORP"), ("GPE", "LOC", "FAC")


@pytest.mark.parametrize(
    ("question", "cue", "types"),
    [
        ("When was Nikola Tesla born?", "when", DATE),
        ("In what year did Tesla die?", "what year", DATE),
        ("Which century saw the fall of Rome?", "which century", DATE),
        ("Who founded Warsaw?", "who", PERSON_ORG),
        ("Whose army defeated Kuchlug?", "whose", PERSON_ORG),
        ("Where did Luther describe the resting place of the saints?", "where", PLACE),
        ("What is the largest city in Poland?", "what is the largest city", PLACE),
        ("Which NFL team represented the AFC at Super Bowl 50?", "which nfl team", ("ORG",)),
        ("How many people live in Warsaw?", "how many", ("CARDINAL", "QUANTITY")),
        ("How much did the stadium cost?", "how much", ("MONEY", "QUANTITY", "CARDINAL", "PERCENT")),
        ("What percentage of Warsaw is green?", "what percentage", ("PERCENT",)),
        ("What language did Tesla study while in school?", "what language", ("LANGUAGE", "NORP")),
        ("How far is Fresno from Los Angeles?", "how far", ("QUANTITY", "CARDINAL")),
        ("The population of Newcastle was 189,863 according to what census?", "what", ()),
        # the earliest cue decides: "when" here opens a subordinate clause
        ("What did Tesla do when he arrived in New York?", "what", ()),
        # a verb between "what" and the noun: not a question about a war
        ("What caused the war?", "what", ()),
        ("What is the city's population?", "what", ()),
        ("Name a luxury model that became popular in the mid-1970s.", "", ()),
        ("", "", ()),
        ("特斯拉是哪一年去世的？", "", ()),
    ],
)
def test_expected_answer_type(question: str, cue: str, types: tuple[str, ...]) -> None:
    answer_type = expected_answer_type(question)
    assert (answer_type.cue, answer_type.types) == (cue, types)
    if cue:
        assert question.lower()[answer_type.start :].startswith(cue.split()[0])


def test_squad_dev_type_distribution(squad_dev: Path) -> None:
    data = json.loads(squad_dev.read_text(encoding="utf-8"))["data"]
    questions = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    first = Counter(t.types[0] if (t := expected_answer_type(q)).types else "-" for q in questions)
    # about 40% of SQuAD questions have a typed cue; PERSON, DATE, places and counts lead
    assert 0.3 < 1 - first["-"] / len(questions) < 0.6
    assert {k for k, _ in first.most_common(6)} >= {"-", "PERSON", "DATE", "GPE", "CARDINAL"}


@pytest.mark.parametrize(
    ("span", "label"),
    [
        ("1856", "DATE"),
        ("10 July 1856", "DATE"),
        ("July 10, 1856", "DATE"),
        ("in 1856", "DATE"),
        ("the 1990s", "DATE"),
        ("the 19th century", "DATE"),
        ("3,000", "CARDINAL"),
        ("about 200", "CARDINAL"),
        ("two million", "CARDINAL"),
        ("45%", "PERCENT"),
        ("$5 million", "MONEY"),
        ("5:30 pm", "TIME"),
        ("third", "ORDINAL"),
        ("Nikola Tesla", None),
        ("", None),
    ],
)
def test_numeric_type(span: str, label: str | None) -> None:
    assert numeric_type(span) == label


def test_labels_and_keys() -> None:
    assert [
        canonical_label(x) for x in ("B-PER", "I-LOC", "MISC", "corporation", "creative-work", "GPE")
    ] == [
        "PERSON",
        "LOC",
        "MISC",
        "ORG",
        "WORK_OF_ART",
        "GPE",
    ]
    assert entity_key("the U.S.'s") == "u.s"
    assert Entity("Nikola Tesla's", "PERSON", 0, 14).key == "nikola tesla"
    assert Entity("The Huguenots", "NORP", 0, 13).phrase == "Huguenots"
    assert Entity("...", "ORG", 0, 3).key == ""
    assert keys_match("tesla", "nikola tesla") and keys_match("nikola tesla", "tesla")
    assert keys_match("warsaw", "warsaw") and not keys_match("war", "warsaw") and not keys_match("", "a")
