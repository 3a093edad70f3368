"""Corpus ingestion: read collections, queries, qrels and QA data; split documents into passages.

This package is self-contained: plain dataclasses, no Haystack and no other :mod:`odqa` module.
Readers report malformed records as :class:`Problem` objects (logged on the ``odqa.corpus``
logger and passed to ``on_problem``) and skip them, or raise :class:`IngestError` when
``strict=True``.
"""

from odqa.corpus.beir import BeirDataset, load_beir, read_beir_corpus, read_beir_queries
from odqa.corpus.files import read_directory
from odqa.corpus.html_text import html_to_text
from odqa.corpus.jsonl import read_jsonl
from odqa.corpus.load import CollectionFormat, detect_format, read_collection
from odqa.corpus.qrels import QrelsFormat, read_qrels
from odqa.corpus.sentences import sentence_spans, split_sentences
from odqa.corpus.split import SplitUnit, split_document, split_documents
from odqa.corpus.squad import iter_squad, iter_squad_examples, read_squad, slug
from odqa.corpus.types import (
    IngestError,
    Passage,
    Problem,
    QAExample,
    Qrels,
    Query,
    SourceDocument,
)

__all__ = [
    "BeirDataset",
    "CollectionFormat",
    "IngestError",
    "Passage",
    "Problem",
    "QAExample",
    "Qrels",
    "QrelsFormat",
    "Query",
    "SourceDocument",
    "SplitUnit",
    "detect_format",
    "html_to_text",
    "iter_squad",
    "iter_squad_examples",
    "load_beir",
    "read_beir_corpus",
    "read_beir_queries",
    "read_collection",
    "read_directory",
    "read_jsonl",
    "read_qrels",
    "read_squad",
    "sentence_spans",
    "slug",
    "split_document",
    "split_documents",
    "split_sentences",
]
