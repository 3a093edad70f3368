"""Split source documents into passages that remember where they came from."""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from tqdm import tqdm

from odqa.corpus.split import split_document
from odqa.corpus.types import SourceDocument

#: meta keys every passage carries
PASSAGE_META = ("doc_id", "passage_no", "start", "end", "title")


def source_to_document(doc: SourceDocument) -> Document:
    """A collection document as a Haystack ``Document`` (id = ``doc_id``, title in meta)."""
    return Document(
        id=doc.doc_id, content=doc.text, meta={**doc.meta, "doc_id": doc.doc_id, "title": doc.title}
    )


@component
class PassageSplitter:
    """Split documents into word or sentence windows with overlap, keeping provenance.

    Each passage is a ``Document`` with id ``"<doc_id>#<passage_no>"`` and meta ``doc_id``,
    ``passage_no``, ``start``/``end`` (character offsets into the source text), ``title``, plus the
    source document's meta. Input documents must carry ``meta["doc_id"]`` (else their ``id`` is used).

    :param unit: ``word``, ``sentence`` or ``none`` (one passage per document).
    :param length: Units per passage.
    :param overlap: Units shared by neighbouring passages.
    :param progress_bar: Show a progress bar.

    Usage::

        PassageSplitter(unit="word", length=200, overlap=20).run(documents=docs)["documents"]
    """

    def __init__(
        self, *, unit: str = "word", length: int = 200, overlap: int = 20, progress_bar: bool = True
    ) -> None:
        if unit not in ("word", "sentence", "none"):
            raise ValueError(f"unknown split unit {unit!r}; choose word, sentence or none")
        if length < 1 or not 0 <= overlap < length:
            raise ValueError(
                f"need length >= 1 and 0 <= overlap < length, got length={length}, overlap={overlap}"
            )
        self.unit = unit
        self.length = length
        self.overlap = overlap
        self.progress_bar = progress_bar

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self, unit=self.unit, length=self.length, overlap=self.overlap, progress_bar=self.progress_bar
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PassageSplitter:
        return default_from_dict(cls, data)

    @component.output_types(documents=list[Document])
    def run(self, documents: list[Document]) -> dict[str, list[Document]]:
        out: list[Document] = []
        for doc in tqdm(documents, desc="splitting", unit="doc", disable=not self.progress_bar):
            doc_id = str(doc.meta.get("doc_id", doc.id))
            meta = {k: v for k, v in doc.meta.items() if k not in PASSAGE_META}
            source = SourceDocument(
                doc_id=doc_id, text=doc.content or "", title=str(doc.meta.get("title") or "")
            )
            for p in split_document(source, unit=self.unit, length=self.length, overlap=self.overlap):  # type: ignore[arg-type]
                out.append(
                    Document(
                        id=p.id,
                        content=p.text,
                        meta={
                            **meta,
                            "doc_id": doc_id,
                            "passage_no": p.passage_no,
                            "start": p.start,
                            "end": p.end,
                            "title": p.title,
                        },
                    )
                )
        return {"documents": out}
