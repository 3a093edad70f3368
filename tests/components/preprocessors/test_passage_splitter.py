"""PassageSplitter keeps provenance and character offsets."""

from __future__ import annotations

import pytest
from haystack import Document

from odqa.components.preprocessors.passage_splitter import PassageSplitter


def test_passages_keep_offsets_and_meta() -> None:
    text = " ".join(f"w{i}" for i in range(25))
    doc = Document(id="doc-1", content=text, meta={"doc_id": "doc-1", "title": "T", "source": "x"})
    out = PassageSplitter(unit="word", length=10, overlap=2, progress_bar=False).run(documents=[doc])[
        "documents"
    ]
    assert [d.id for d in out] == ["doc-1#0", "doc-1#1", "doc-1#2"]
    for d in out:
        assert text[d.meta["start"] : d.meta["end"]] == d.content
        assert d.meta["doc_id"] == "doc-1" and d.meta["title"] == "T" and d.meta["source"] == "x"
    assert out[1].content.split()[0] == "w8"  # two words of overlap


def test_round_trip_and_validation() -> None:
    s = PassageSplitter(unit="sentence", length=3, overlap=1)
    assert PassageSplitter.from_dict(s.to_dict()).to_dict() == s.to_dict()
    with pytest.raises(ValueError, match="overlap"):
        PassageSplitter(length=5, overlap=5)
    with pytest.raises(ValueError, match="unit"):
        PassageSplitter(unit="page")
