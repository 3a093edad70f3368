"""NER training: BIO label alignment on word pieces, seqeval-equal metrics, a tiny real training run
whose model plugs into query analysis through the registry."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from odqa.components.analyzers.entities import SPACY_TO_CONLL
from odqa.corpus.conll import TaggedSentence, read_conll
from odqa.train.common import TrainResult
from odqa.train.ner import (
    IGNORE,
    WNUT_TO_CONLL,
    align_labels,
    collate_tokens,
    config_from_recipe,
    encode_sentences,
    entity_scores,
    load_split,
    map_tag_types,
    train_ner,
)


@pytest.fixture(scope="session")
def conll_test(data_dir: Path) -> list[TaggedSentence]:
    path = data_dir / "conll2003" / "test.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return read_conll(path)


def test_first_sub_token_carries_the_label(tokenizer: Any) -> None:
    words = ["Nadim", "Ladki", "visited", "Al-Ain", "."]
    enc = tokenizer(words, is_split_into_words=True)
    word_ids = enc.word_ids()
    assert len(word_ids) > len(words) + 2  # some words are split into several pieces
    labels = align_labels(word_ids, [1, 2, 0, 3, 0])
    assert labels[0] == IGNORE and labels[-1] == IGNORE  # [CLS], [SEP]
    firsts = [i for i, w in enumerate(word_ids) if w is not None and (i == 0 or word_ids[i - 1] != w)]
    assert [labels[i] for i in firsts] == [1, 2, 0, 3, 0]
    assert all(labels[i] == IGNORE for i in range(len(labels)) if i not in firsts)
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert all(not pieces[i].startswith("##") for i in firsts)  # a word starts at its first piece


def test_truncation_drops_the_labels_of_cut_words(tokenizer: Any, conll_test: list[TaggedSentence]) -> None:
    sentence = max(conll_test, key=len)
    label2id = {t: i for i, t in enumerate(sorted({t for s in conll_test for t in s.tags}))}
    full, cut = (encode_sentences(tokenizer, [sentence], label2id, n)[0] for n in (512, 16))
    assert int((full["labels"] != IGNORE).sum()) == len(sentence)  # one label per word
    assert len(cut["input_ids"]) == 16 and int((cut["labels"] != IGNORE).sum()) < 15
    assert list(full["labels"][full["labels"] != IGNORE][:5]) == [label2id[t] for t in sentence.tags[:5]]


def test_collate_pads_labels_with_ignore(tokenizer: Any, conll_test: list[TaggedSentence]) -> None:
    label2id = {t: i for i, t in enumerate(sorted({t for s in conll_test for t in s.tags}))}
    features = encode_sentences(tokenizer, conll_test[1:4], label2id, 128)
    batch = collate_tokens(features, tokenizer.pad_token_id)
    longest = max(len(f["input_ids"]) for f in features)
    assert batch["labels"].shape == batch["input_ids"].shape == (3, longest)
    for row, f in enumerate(features):
        assert (batch["labels"][row, len(f["labels"]) :] == IGNORE).all()
        assert int(batch["attention_mask"][row].sum()) == len(f["input_ids"])


def test_entity_scores_equal_seqeval(conll_test: list[TaggedSentence]) -> None:
    metrics = pytest.importorskip("seqeval.metrics")
    rng = random.Random(0)
    gold = [list(s.tags) for s in conll_test[:800]]
    types = ["PER", "ORG", "LOC", "MISC"]
    pred = []
    for tags in gold:  # a noisy tagger: dropped, retyped, shifted and invented entities
        noisy = []
        for t in tags:
            r = rng.random()
            if r < 0.08:
                t = "O"
            elif r < 0.16 and t != "O":
                t = f"{t[:2]}{rng.choice(types)}"
            elif r < 0.2:
                t = f"{rng.choice('BI')}-{rng.choice(types)}"
            noisy.append(t)
        pred.append(noisy)
    ours = entity_scores(gold, pred)
    assert ours["precision"] == pytest.approx(metrics.precision_score(gold, pred))
    assert ours["recall"] == pytest.approx(metrics.recall_score(gold, pred))
    assert ours["f1"] == pytest.approx(metrics.f1_score(gold, pred))
    report = metrics.classification_report(gold, pred, output_dict=True)
    for typ in types:
        assert ours[f"f1:{typ}"] == pytest.approx(report[typ]["f1-score"])
        assert ours[f"support:{typ}"] == report[typ]["support"]
    assert entity_scores(gold, gold)["f1"] == 1.0
    with pytest.raises(ValueError, match="sentence 0"):
        entity_scores([["O"]], [["O", "O"]])


def test_type_maps() -> None:
    spacy_tags = ["B-PERSON", "I-PERSON", "B-GPE", "B-FAC", "B-DATE", "I-DATE", "B-NORP", "O"]
    assert map_tag_types(spacy_tags, SPACY_TO_CONLL) == [
        "B-PER",
        "I-PER",
        "B-LOC",
        "B-LOC",  # a new entity: adjacent GPE and FAC stay two LOCs
        "O",
        "O",
        "B-MISC",
        "O",
    ]
    assert set(WNUT_TO_CONLL.values()) == {"PER", "LOC", "ORG", "MISC"}


def test_wnut_maps_onto_conll_types_when_mixed(data_dir: Path) -> None:
    path = data_dir / "wnut17" / "emerging.test.annotated"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    mapped = load_split(path, WNUT_TO_CONLL, 300, seed=0)
    assert len(mapped) == 300 and {t[2:] for s in mapped for t in s.tags if t != "O"} <= {
        "PER",
        "LOC",
        "ORG",
        "MISC",
    }


def test_recipes() -> None:
    cfg = config_from_recipe("quick", epochs=2, lr=None)
    assert (cfg.recipe, cfg.epochs, cfg.max_sentences, cfg.lr) == ("quick", 2, 4000, 1e-4)
    with pytest.raises(KeyError, match="unknown ner recipe"):
        config_from_recipe("huge")
    with pytest.raises(TypeError, match="unknown ner config"):
        config_from_recipe("quick", learning_rate=1.0)


@pytest.fixture(scope="module")
def trained_ner(small_base: str, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """200 CoNLL-2003 sentences, 3 epochs, 2-layer MiniLM, one thread (~20 s)."""
    if not (data_dir / "conll2003").is_dir():
        pytest.skip("conll2003 not found")
    cfg = config_from_recipe(
        "quick",
        datasets=["conll2003"],
        output_dir=str(tmp_path_factory.mktemp("ner")),
        base_model=small_base,
        max_sentences=200,
        dev_sentences=150,
        test_sentences=150,
        epochs=3,
        batch_size=16,
        lr=5e-4,
        warmup=0,
        max_length=128,
        progress=False,
        threads=1,
        measure_speed=False,
    )
    return train_ner(cfg)


def test_training_learns_and_writes_a_card(trained_ner: TrainResult) -> None:
    out = Path(trained_ner.output_dir)
    assert trained_ner.final_loss is not None and trained_ner.extra["first_loss"] is not None
    assert trained_ner.final_loss < trained_ner.extra["first_loss"] / 3
    assert trained_ner.dev_metrics["f1"] > 0.2  # an untrained head scores ~0
    test = trained_ner.extra["test"]["conll2003"]
    assert test["entities"] > 100 and 0.1 < test["f1"] <= 1
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"]["0"] == "O" and set(config["label2id"]) == set(trained_ner.extra["labels"])
    manifest = json.loads((out / "odqa_manifest.json").read_text())
    assert manifest["odqa_model"] == "ner" and manifest["dev_metrics"]["f1"] == trained_ner.dev_metrics["f1"]
    assert {d["role"] for d in manifest["data"]} == {"train:conll2003", "dev:conll2003", "test:conll2003"}
    assert (out / "README.md").is_file() and (out / "train_log.jsonl").is_file()


def test_trained_model_plugs_into_the_analyzer_through_the_registry(trained_ner: TrainResult) -> None:
    from odqa.components.analyzers.query_analyzer import QueryAnalyzer
    from odqa.models import ModelRegistry

    ref = ModelRegistry("/nonexistent", overrides={"ner": trained_ner.output_dir}).resolve("ner").require()
    assert ref.kind == "local"
    analyzer = QueryAnalyzer(model=ref.location)
    analyzer.warm_up()
    analysis = analyzer.analyze("Did Germany beat England at Wembley in London?")
    assert analysis.backend.startswith("transformers:")
    for e in analysis.entities:
        assert analysis.question[e.start : e.end] == e.text and e.label in {"PERSON", "ORG", "LOC", "MISC"}
    assert analysis.entities, "the trained model found no entity in a CoNLL-like sentence"
