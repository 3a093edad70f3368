"""Passage splitting with exact offsets, and the rule-based sentence splitter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from odqa.corpus import (
    IngestError,
    Passage,
    Problem,
    SourceDocument,
    SplitUnit,
    read_beir_corpus,
    sentence_spans,
    split_document,
    split_documents,
    split_sentences,
)

TEXT = "  One two\tthree,  four\n\nfive six seven eight nine ten  "


def _words(passages: list[Passage]) -> list[list[str]]:
    return [p.text.split() for p in passages]


def test_word_windows_overlap_and_offsets() -> None:
    doc = SourceDocument("d", TEXT, "Title", {"k": 1})
    passages = split_document(doc, unit="word", length=4, overlap=1)
    assert _words(passages) == [
        ["One", "two", "three,", "four"],
        ["four", "five", "six", "seven"],
        ["seven", "eight", "nine", "ten"],
    ]
    assert passages[0].text == "One two\tthree,  four"  # original whitespace kept, not re-joined
    assert [(p.id, p.passage_no, p.start, p.end) for p in passages] == [
        ("d#0", 0, 2, 22),
        ("d#1", 1, 18, 38),
        ("d#2", 2, 33, 53),
    ]
    for p in passages:
        assert TEXT[p.start : p.end] == p.text
        assert (p.doc_id, p.title, p.meta) == ("d", "Title", {"k": 1})
    assert passages[0].meta is not doc.meta


def test_word_windows_without_overlap_and_short_last_window() -> None:
    doc = SourceDocument("d", " ".join(f"w{i}" for i in range(10)))
    assert _words(split_document(doc, length=4, overlap=0)) == [
        ["w0", "w1", "w2", "w3"],
        ["w4", "w5", "w6", "w7"],
        ["w8", "w9"],
    ]
    # the last window ends at the last word; no window lies inside the previous one
    assert _words(split_document(doc, length=6, overlap=2)) == [
        [f"w{i}" for i in range(6)],
        [f"w{i}" for i in range(4, 10)],
    ]
    assert _words(split_document(doc, length=200, overlap=20)) == [[f"w{i}" for i in range(10)]]


def test_sentence_windows() -> None:
    text = "Dr. Who arrived. He left at 3.30 p.m. today! Did he? Yes.\n\nNew paragraph without stop"
    doc = SourceDocument("s", text)
    passages = split_document(doc, unit="sentence", length=2, overlap=1)
    assert [p.text for p in passages] == [
        "Dr. Who arrived. He left at 3.30 p.m. today!",
        "He left at 3.30 p.m. today! Did he?",
        "Did he? Yes.",
        "Yes.\n\nNew paragraph without stop",
    ]
    assert all(text[p.start : p.end] == p.text for p in passages)


def test_unit_none_and_empty_documents() -> None:
    doc = SourceDocument("n", "\n  whole   text \n")
    [passage] = split_document(doc, unit="none")
    assert (passage.text, passage.start, passage.end, passage.id) == ("whole   text", 3, 15, "n#0")
    for unit in ("word", "sentence", "none"):
        assert split_document(SourceDocument("e", " \n\t "), unit=unit) == []
        assert split_document(SourceDocument("e", ""), unit=unit) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length": 0, "overlap": 0}, "length must be at least 1"),
        ({"length": 5, "overlap": 5}, "overlap must be at least 0 and smaller than length"),
        ({"length": 5, "overlap": -1}, "overlap must be at least 0"),
        ({"unit": "paragraph"}, "unit must be"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    doc = SourceDocument("d", "text")
    with pytest.raises(ValueError, match=message):
        split_document(doc, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        split_documents([doc], **kwargs)  # type: ignore[arg-type]


def test_split_documents_is_lazy_and_ordered() -> None:
    def docs() -> Iterator[SourceDocument]:
        yield SourceDocument("a", "one two three")
        raise AssertionError("split_documents read too far")

    passages = split_documents(docs(), length=2, overlap=0)
    assert [next(passages).id, next(passages).id] == ["a#0", "a#1"]


def test_real_corpus_offsets(scifact_dir: Path) -> None:
    docs = {d.doc_id: d for d in read_beir_corpus(scifact_dir, progress=False)}
    settings: list[tuple[SplitUnit, int, int]] = [("word", 100, 20), ("sentence", 4, 1)]
    for unit, length, overlap in settings:
        passages = list(split_documents(docs.values(), unit=unit, length=length, overlap=overlap))
        assert len({p.id for p in passages}) == len(passages)
        for p in passages:
            assert docs[p.doc_id].text[p.start : p.end] == p.text
    first = split_document(docs["4983"], length=100, overlap=20)
    assert len(docs["4983"].text.split()) == 278
    assert [len(p.text.split()) for p in first] == [100, 100, 100, 38]
    assert first[0].text.split()[-20:] == first[1].text.split()[:20]


# --- sentences -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Mr. Smith met Dr. Jones in the U.S. capital. They talked.",
            ["Mr. Smith met Dr. Jones in the U.S. capital.", "They talked."],
        ),
        (
            "Some fruits, e.g. apples, are red, i.e. not blue. Pi is 3.14159 and e is 2.718. Done.",
            ["Some fruits, e.g. apples, are red, i.e. not blue.", "Pi is 3.14159 and e is 2.718.", "Done."],
        ),
        (
            "See Fig. 3 and No. 5 for details. The answer was no. Then J. K. Rowling spoke.",
            ["See Fig. 3 and No. 5 for details.", "The answer was no.", "Then J. K. Rowling spoke."],
        ),
        ('She said "Stop." Then "Why?" he asked.', ['She said "Stop."', 'Then "Why?" he asked.']),
        (
            "Roe v. Wade was decided in 1973. Wow! Really?",
            ["Roe v. Wade was decided in 1973.", "Wow!", "Really?"],
        ),
        (
            "an experimental study . the results were intended . a non-issue . . . a diversion",
            ["an experimental study .", "the results were intended .", "a non-issue . . . a diversion"],
        ),
        ("Title line\n\nBody text here\nwrapped line.", ["Title line", "Body text here\nwrapped line."]),
        ("", []),
    ],
)
def test_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences
    assert [text[s:e] for s, e in sentence_spans(text)] == sentences


def test_sentence_splitter_on_squad_contexts(squad_dev: Path) -> None:
    from odqa.corpus import read_squad

    docs, _ = read_squad(squad_dev, progress=False)
    super_bowl = split_sentences(docs[0].text)
    assert len(super_bowl) == 4
    assert super_bowl[0].startswith("Super Bowl 50 was an American football game")
    total = sum(len(sentence_spans(d.text)) for d in docs)
    assert 7000 < total < 7700


# --- types -----------------------------------------------------------------------------------


def test_problem_and_ingest_error_strings() -> None:
    assert str(Problem("corpus.jsonl", 17, 'missing field "text"')) == 'corpus.jsonl:17: missing field "text"'
    assert str(Problem("squad.json", None, "data[3]: bad")) == "squad.json: data[3]: bad"
    error = IngestError(Problem("q.tsv", 2, "x"))
    assert str(error) == "q.tsv:2: x"
    assert error.problem.line == 2
