"""Keywords of a question: its content words, without question words, auxiliaries and stop words.

Backend-independent (a regex and a stop list), so keywords exist even when NER finds nothing.

Usage::

    keywords("In what year did Nikola Tesla die?")   # ['Nikola', 'Tesla', 'die']
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+(?:[-'’.]\w+)*", re.UNICODE)

#: Function words of English questions: Lucene's English stop set, wh-words, auxiliaries,
#: pronouns, common prepositions and determiners.
_STOP_TEXT = """
    a an and are as at be but by for if in into is it no not of on or such that the their then there
    these they this to was will with what which when where who whom whose why how did do does done
    doing has have had having been being were am can could would should shall may might must
    i me my we our you your he him his she her its them us one ones from about after before over
    under between during than so some any all each other another own same very also just only
    up down out off again further once here more most many much few both either neither nor
    s t name called known kind type
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def keywords(question: str, *, max_keywords: int = 32) -> list[str]:
    """Content words of ``question`` in order of appearance, each once (case-insensitively),
    possessive ``'s`` removed; at most ``max_keywords``."""
    out: list[str] = []
    seen: set[str] = set()
    for m in _WORD.finditer(question):
        word = re.sub(r"['’]s$", "", m.group(0))
        low = word.lower()
        if not word or low in STOP_WORDS or low in seen or (len(word) == 1 and not word.isdigit()):
            continue
        seen.add(low)
        out.append(word)
        if len(out) >= max_keywords:
            break
    return out
