"""Lucene-like text analysis for the embedded BM25 index.

Two analyzers mirror Elasticsearch's built-ins so that embedded and Elasticsearch BM25 agree:

* ``standard`` -- word tokens (a regex approximation of Lucene's UAX#29 StandardTokenizer:
  letters/digits with inner ``.``/``'`` kept, e.g. ``u.s.a``, ``don't``, ``3.14``), lowercased,
  no stop words, no stemming (Elasticsearch's ``standard`` analyzer).
* ``english`` -- the same tokens, possessive ``'s`` removed, Lucene's English stop set removed,
  Porter stemming (Elasticsearch's ``english`` analyzer without keyword markers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_TOKEN = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)

#: Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET (also Elasticsearch's ``_english_``).
ENGLISH_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)

ANALYZERS = ("standard", "english")


def standard_tokens(text: str) -> list[str]:
    """Lowercased word tokens. ``"The U.S.A. GDP"`` -> ``["the", "u.s.a", "gdp"]``."""
    return [m.group(0).lower().replace("’", "'") for m in _TOKEN.finditer(text)]


@lru_cache(maxsize=1)
def _porter() -> Callable[[list[str]], list[str]]:
    import Stemmer  # PyStemmer; "porter" is the original Porter algorithm, as Lucene's PorterStemFilter

    return Stemmer.Stemmer("porter").stemWords


def english_tokens(text: str) -> list[str]:
    """Standard tokens, minus possessives and English stop words, Porter-stemmed."""
    toks = []
    for tok in standard_tokens(text):
        if tok.endswith("'s"):
            tok = tok[:-2]
        if tok and tok not in ENGLISH_STOP_WORDS:
            toks.append(tok)
    return _porter()(toks)


def get_analyzer(name: str) -> Callable[[str], list[str]]:
    """Return the tokenizer function for ``name`` (``standard`` or ``english``)."""
    if name == "standard":
        return standard_tokens
    if name == "english":
        return english_tokens
    raise ValueError(f"unknown analyzer {name!r}; choose one of {', '.join(ANALYZERS)}")
