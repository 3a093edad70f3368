"""A small rule-based sentence splitter that returns character spans (no model needed)."""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "v", "dr", "prof", "sr", "jr", "st", "mt", "ft", "messrs", "mme",
        "mlle", "rev", "hon", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "maj", "gov",
        "sen", "rep", "pres", "supt", "insp", "vs", "cf", "al", "approx", "ca", "viz", "resp",
        "dept", "univ", "assn", "bros", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
        "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
"""Words (lowercase, without the final period) after which a period never ends a sentence."""

NUMBER_ABBREVIATIONS = frozenset(
    {
        "c", "no", "nos", "vol", "vols", "p", "pp", "fig", "figs", "eq", "eqs", "ch", "sec", "sect",
        "art", "ref", "refs", "tab",
    }
)  # fmt: skip
"""Abbreviations after which a period does not end a sentence when a number follows."""

# Terminal punctuation, optional closing quotes/brackets, then whitespace; or a blank line.
_BOUNDARY = re.compile(r"[.!?…]+[\"'’”)\]]*(?=\s)|\n[^\S\n]*\n")
_LAST_WORD = re.compile(r"\S*$")
_NEXT_CHAR = re.compile(r"\s*(\S)")
_OPENERS = "\"'‘“([{"
_DOTTED = re.compile(r"[^\W\d_]{1,3}(?:\.[^\W\d_]{1,3})+")  # U.S, e.g, i.e, Ph.D, a.m
_INITIAL = re.compile(r"[A-Z]")


def _is_abbreviation(word: str, next_char: str) -> bool:
    """Decide whether the period after ``word`` belongs to an abbreviation."""
    core = word.lstrip(_OPENERS)
    lower = core.lower()
    if lower in ABBREVIATIONS or _DOTTED.fullmatch(core) or _INITIAL.fullmatch(core):
        return True
    return lower in NUMBER_ABBREVIATIONS and next_char.isdigit()


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    punct = match.group()
    if punct.startswith("\n"):
        return True
    follow = _NEXT_CHAR.match(text, match.end())
    if follow is None:
        return False  # only whitespace follows: the end of the text closes the sentence anyway
    next_char = follow.group(1)
    start = match.start()
    before = text[max(0, start - 40) : start].rstrip()[-1:]
    attached = start > 0 and not text[start - 1].isspace()
    if next_char == "." or (not attached and before != "."):
        # inside a spaced ellipsis ". . .", or a free-standing " . " as in tokenized text (Cranfield)
        return next_char != "."
    if next_char.islower():
        return False  # "e.g. the", "approx. five", '"Why?" he asked'
    if punct.rstrip("\"'’”)]") == ".":
        window = text[max(0, start - 40) : start]
        word = _LAST_WORD.search(window)
        return not _is_abbreviation(word.group() if word else "", next_char)
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split a text into sentences, returned as ``(start, end)`` character spans.

    Spans exclude surrounding whitespace, so ``text[start:end]`` is the sentence itself.
    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (plus closing quotes or brackets) followed
    by whitespace, and at every blank line. A period does not end a sentence after a known
    abbreviation (``Mr.``, ``Dr.``, ``e.g.``, ``i.e.``, ``U.S.``, ``Fig. 3``, single capital
    initials) or when the next word starts with a lowercase letter. Decimals (``3.14``) never
    split because no whitespace follows their period.

    :param text: Any text.
    :returns: The spans, in order; empty for an empty or whitespace-only text.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if _ends_sentence(text, match):
            end = match.start() if match.group().startswith("\n") else match.end()
            _add_span(text, start, end, spans)
            start = match.end()
    _add_span(text, start, len(text), spans)
    return spans


def split_sentences(text: str) -> list[str]:
    """Return the sentences of ``text`` (see :func:`sentence_spans`)."""
    return [text[s:e] for s, e in sentence_spans(text)]


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Append ``text[start:end]`` without its surrounding whitespace, unless it is empty."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
