"""Expected answer type from a question's form, and a rule-based type for numeric answer spans.

:func:`expected_answer_type` finds the question's *cue* -- a wh-phrase such as ``when``,
``how many`` or ``which country`` -- and maps it to the entity types an answer should have. The
cue is the **earliest** wh-phrase of the question, the longest one when several start at the same
word: ``"In what year did Tesla die?"`` -> ``what year`` (DATE), ``"What did Tesla do when he
arrived?"`` -> ``what`` (no type: the ``when`` belongs to a subordinate clause). A bare
``what``/``which`` says nothing about the type and gives none.

Types are OntoNotes labels (:mod:`odqa.components.analyzers.entities`). ``who`` also allows
``NORP`` ("the Huguenots") besides ``PERSON``/``ORG``.

:func:`numeric_type` types number-like spans without a model (``"1856"`` -> DATE, ``"3,000"`` ->
CARDINAL, ``"45%"`` -> PERCENT): backends trained on CoNLL-2003 have no numeric types.

Usage::

    expected_answer_type("How many people live in Warsaw?")
    # AnswerType(cue='how many', types=('CARDINAL', 'QUANTITY'), start=0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DATE = ("DATE", "TIME")
_PERSON_ORG = ("PERSON", "ORG", "NORP")
_PLACE = ("GPE", "LOC", "FAC")


def _nouns(words: str) -> str:
    """A regex alternative of the space-separated nouns, each with an optional plural ``s``/``es``
    (not followed by a possessive: "What is the city's population?" does not ask for a city)."""
    return "(?:" + "|".join(f"{w}(?:e?s)?" for w in words.split()) + ")(?!['’]s)"


#: Words allowed between ``what``/``which`` and the noun: capitalised words and a few modifiers
#: ("Which NFL team", "What is the largest city") -- not verbs ("What caused the war").
_MODIFIER_WORDS = (
    "largest biggest smallest first last main other same new old major most second third highest "
    "longest oldest current former official famous only best modern ancient european american british "
    "english french german roman"
)
_MODIFIERS = r"(?:(?:(?-i:[A-Z0-9][\w.'&-]*)|" + "|".join(_MODIFIER_WORDS.split()) + r")\s+){0,3}"
_WHICH = (
    r"(?:what|which)\s+(?:(?:is|was|are|were)\s+)?(?:the\s+)?(?:name\s+of\s+(?:the\s+|an?\s+)?)?" + _MODIFIERS
)
_PERSON_NOUNS = (
    "person people man men woman women scientist president king queen emperor leader author writer "
    "composer artist player coach inventor general pope ruler founder philosopher actor actress singer"
)
_ORG_NOUNS = (
    "company companie organization organisation team university universitie college school party "
    "partie band agency agencie club league network newspaper institution firm corporation government army"
)
_PLACE_NOUNS = (
    "city citie country countrie state place region continent river mountain location town island "
    "province county countie nation area ocean sea lake capital district"
)
_TIME_NOUNS = "year date day month decade century centurie era period"

#: (regex, types). Every regex is matched case-insensitively (but for capitalised modifiers),
#: with word boundaries, on the question.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"when", _DATE),
    (r"since when", _DATE),
    (r"what time", ("TIME", "DATE")),
    (_WHICH + _nouns(_TIME_NOUNS), _DATE),
    (r"how long ago", _DATE),
    (r"how long", ("DATE", "TIME", "QUANTITY")),
    (r"how old", ("DATE", "CARDINAL")),
    (r"who(?:m|se)?", _PERSON_ORG),
    (_WHICH + _nouns(_PERSON_NOUNS), ("PERSON",)),
    (_WHICH + _nouns(_ORG_NOUNS), ("ORG",)),
    (r"where", _PLACE),
    (_WHICH + _nouns(_PLACE_NOUNS), _PLACE),
    (r"how many", ("CARDINAL", "QUANTITY")),
    (r"how much", ("MONEY", "QUANTITY", "CARDINAL", "PERCENT")),
    (r"how (?:far|tall|high|big|large|wide|deep|heavy|fast|hot|cold|long)", ("QUANTITY", "CARDINAL")),
    (_WHICH + _nouns("percentage percent proportion fraction share rate"), ("PERCENT",)),
    (_WHICH + _nouns("number amount population"), ("CARDINAL", "QUANTITY", "MONEY")),
    (_WHICH + _nouns("price cost salary budget"), ("MONEY",)),
    (_WHICH + _nouns("language"), ("LANGUAGE", "NORP")),
    (_WHICH + _nouns("nationality nationalitie religion ethnicity ethnicitie"), ("NORP",)),
    (_WHICH + _nouns("war battle event tournament championship revolution"), ("EVENT",)),
    (_WHICH + _nouns("book film movie song album painting novel opera poem"), ("WORK_OF_ART",)),
    (_WHICH + _nouns("law act treaty treatie amendment constitution"), ("LAW",)),
    (_WHICH + _nouns("rank position"), ("ORDINAL",)),
    # Bare wh-words give no type; listed so that an earlier bare one wins over a later cue.
    (r"what|which|why|how", ()),
)

_COMPILED = tuple((re.compile(rf"\b(?i:{rx})\b"), types) for rx, types in RULES)

#: Wh-words: an "entity" that starts with one (spaCy tags "what year" as DATE) is a cue, not a name.
WH_WORDS = frozenset({"what", "which", "when", "where", "who", "whom", "whose", "why", "how"})


@dataclass(frozen=True)
class AnswerType:
    """The answer type a question asks for.

    :ivar cue: the wh-phrase that decided it (``""`` when the question has none).
    :ivar types: acceptable entity types, most likely first (empty: unknown).
    :ivar start: character offset of the cue in the question (``-1`` without one).
    """

    cue: str = ""
    types: tuple[str, ...] = field(default_factory=tuple)
    start: int = -1


def expected_answer_type(question: str) -> AnswerType:
    """The expected answer type of ``question`` (see the module docstring); never raises."""
    text = question
    best: tuple[int, int, tuple[str, ...], str] | None = None  # (start, -length, types, cue)
    for rx, types in _COMPILED:
        m = rx.search(text)
        if m is None:
            continue
        key = (m.start(), -(m.end() - m.start()), types, m.group(0))
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return AnswerType()
    start, _, types, cue = best
    return AnswerType(cue=" ".join(cue.lower().split()), types=types, start=start)


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_NUMBER_WORDS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    "|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
    "|hundred|thousand|million|billion|trillion|dozen|several|a few"
)
_ABOUT = r"(?:(?:about|around|over|nearly|approximately|almost|more than|less than|some)\s+)?"
_NUMBER = rf"(?:\d[\d.,]*|{_NUMBER_WORDS})(?:\s+(?:{_NUMBER_WORDS}))*"
_YEAR = r"(?:1\d{3}|20\d{2})s?"
_DAY_MONTH = rf"(?:\d{{1,2}}\s+)?(?:{_MONTHS})\.?(?:\s+\d{{1,2}})?,?\s*"
_DATE_PREFIX = r"(?:(?:in|on|by|since|until|from|during|early|late|mid|the)\s+)*"
_MONEY = r"(?:[$£€¥]\s*\d[\d.,]*|\d[\d.,]*\s*(?:dollars?|pounds?|euros?|yen))"
_ORDINAL_WORDS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"

_NUMERIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rx), label)
    for rx, label in (
        (rf"^{_ABOUT}\d[\d.,]*\s*(?:%|percent|per cent)$", "PERCENT"),
        (rf"^{_ABOUT}{_MONEY}(?:\s*(?:million|billion))?$", "MONEY"),
        (rf"^{_DATE_PREFIX}(?:{_DAY_MONTH})?{_YEAR}$", "DATE"),
        (r"^(?:in|since|until|by)\s+\d{3,4}$", "DATE"),
        (rf"^(?:{_MONTHS})\.?\s+\d{{1,2}}$", "DATE"),
        (r"^(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\s+century$", "DATE"),
        (r"^\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)$", "TIME"),
        (rf"^(?:\d+(?:st|nd|rd|th)|{_ORDINAL_WORDS})$", "ORDINAL"),
        (rf"^{_ABOUT}{_NUMBER}$", "CARDINAL"),
    )
)


def numeric_type(span: str) -> str | None:
    """The type of a number-like span by rule (``DATE``, ``TIME``, ``PERCENT``, ``MONEY``,
    ``ORDINAL``, ``CARDINAL``), or ``None`` when it is not one. Years (1000-2099, or "in 800") are DATE."""
    text = " ".join(span.lower().split()).strip(" .,;:")
    if not text:
        return None
    for rx, label in _NUMERIC_RULES:
        if rx.match(text):
            return label
    return None
