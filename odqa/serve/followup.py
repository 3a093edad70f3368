"""Follow-up questions in a conversation: "When did he die?" after "Who invented the AC motor?"
becomes "When did Nikola Tesla die?", and the chat page shows the rewrite ("interpreted as").

A rule, not a model: the first third-person pronoun of a question that names no entity of its own
is replaced by the previous turn's referent. The previous *answer* is the referent when the
previous question asked for one of that kind and the answer looks like a name -- a person pronoun
(he, she, his...) after a "who" question ("Who invented the AC motor?" -> Nikola Tesla), ``it``/
``its`` after a "what"/"which" question ("What is the largest city in Poland?" -> Warsaw);
otherwise the previous question's first entity ("Where was Tesla born?" -> "When did Tesla
die?"). Possessives keep their ``'s``.

Usage::

    resolve_followup("When did he die?", PreviousTurn(question="Who invented the AC motor?",
                     answer="Nikola Tesla", entities=["AC"]))  # -> "When did Nikola Tesla die?"
"""

from __future__ import annotations

import re

from odqa.serve.schemas import MAX_QUESTION_CHARS, PreviousTurn

PERSON = {"he": "", "she": "", "him": "", "her": "'s", "his": "'s", "they": "", "them": "", "their": "'s"}
THING = {"it": "", "its": "'s"}
_WORD = re.compile(r"\b([A-Za-z]+)\b")


def _looks_like_name(text: str | None) -> bool:
    """Capitalised words and no digits: "Nikola Tesla", "Denver Broncos" (not "1943", "eight")."""
    if not text or any(ch.isdigit() for ch in text) or len(text) > 60:
        return False
    words = text.split()
    return all(w[:1].isupper() for w in words if len(w) > 3) and text[:1].isupper()


def _names_an_entity(question: str) -> bool:
    """Whether the question has a capitalised word after its first (a name of its own)."""
    words = _WORD.findall(question)
    return any(w[:1].isupper() and w.lower() not in PERSON | THING for w in words[1:])


def resolve_followup(question: str, previous: PreviousTurn | None) -> str | None:
    """The question with its pronoun replaced, or ``None`` when it is not a follow-up."""
    if previous is None or _names_an_entity(question):
        return None
    for m in _WORD.finditer(question):
        word = m.group(1).lower()
        asked = previous.question.strip().lower().split(" ", 1)[0]
        if word in PERSON:
            answer_first = asked in ("who", "whom", "whose")
            suffix = PERSON[word]
        elif word in THING:
            answer_first = asked in ("what", "which")
            suffix = THING[word]
        else:
            continue
        answer = [previous.answer] if _looks_like_name(previous.answer) else []
        candidates = [*answer, *previous.entities] if answer_first else [*previous.entities, *answer]
        referent = next((c for c in candidates if c), None)
        if referent is None:
            return None
        if word == "her":  # "her" is an object or a possessive: possessive when a noun follows
            after = question[m.end() :].lstrip()
            suffix = (
                "'s" if after[:1].isalpha() and not after.lower().startswith(("in ", "on ", "at ")) else ""
            )
        rewritten = question[: m.start()] + referent + suffix + question[m.end() :]
        return rewritten if len(rewritten) <= MAX_QUESTION_CHARS else None
    return None
