"""Train odqa's NER model: BIO token classification fine-tuned from all-MiniLM-L6-v2.

Data are CoNLL-style BIO files (:mod:`odqa.corpus.conll`): CoNLL-2003 (``PER``, ``ORG``, ``LOC``,
``MISC``) and/or WNUT-17 (six types; mapped onto CoNLL's four when both are trained together).
Words are tokenised with ``is_split_into_words=True``; the **first** sub-token of each word carries
the word's label and the others (and special tokens) ``-100``, which the loss ignores
(:func:`align_labels`). Prediction takes each word's first sub-token, the same convention
(:func:`odqa.components.analyzers.token_classification.predict_word_tags`).

Metrics are entity-level micro precision / recall / F1 (fractions) with seqeval's default
conventions (conlleval): an entity counts only if its type and both boundaries are right
(:func:`entity_scores`, checked against seqeval in the tests).

The output directory is a plain Hugging Face model directory (``AutoModelForTokenClassification``;
``config.json`` holds ``id2label``), plus ``README.md`` and ``odqa_manifest.json``. By default it is
``<models_dir>/ner``; point the registry's ``ner`` role at it (``ODQA_NER_MODEL``) to use it in
query analysis.

Usage::

    from odqa.train.ner import config_from_recipe, train_ner
    result = train_ner(config_from_recipe("quick"))
    print(result.dev_metrics["f1"], result.extra["test"])
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from odqa.corpus.conll import OUTSIDE, TaggedSentence, bio_spans, conll_stats, label_list, read_conll
from odqa.train.batching import compact_inputs, pad_batch
from odqa.train.card import DataFile, write_card
from odqa.train.common import TrainConfigBase, TrainResult, config_from_recipe_for, train_loop
from odqa.train.modeling import (
    apply_lora,
    base_model_path,
    count_parameters,
    default_data_file,
    save_model_dir,
)

log = logging.getLogger(__name__)

IGNORE = -100
#: dataset -> (train, dev, test) files under ``ODQA_DATA_DIR``.
DATASETS: dict[str, tuple[str, str, str]] = {
    "conll2003": ("conll2003/train.txt", "conll2003/valid.txt", "conll2003/test.txt"),
    "wnut17": ("wnut17/wnut17train.conll", "wnut17/emerging.dev.conll", "wnut17/emerging.test.annotated"),
}
#: WNUT-17 types -> CoNLL-2003 types, used when both are trained into one model.
WNUT_TO_CONLL = {
    "person": "PER",
    "location": "LOC",
    "group": "ORG",
    "corporation": "ORG",
    "product": "MISC",
    "creative-work": "MISC",
}
_ENCODE_CHUNK = 2000  # sentences per tokenizer call


@dataclass(kw_only=True)
class NerTrainConfig(TrainConfigBase):
    """Everything :func:`train_ner` needs; the single source of defaults (the ``full`` recipe).

    ``datasets`` names the training data (``conll2003``, ``wnut17``, or both: WNUT-17 is then mapped
    onto CoNLL's types). ``train_file``/``dev_file``/``test_file`` replace the first dataset's files
    (``""`` skips dev or test). Dev is the first dataset's; test is evaluated for every dataset.
    ``max_sentences``/``dev_sentences``/``test_sentences`` sample the sets down (seeded; ``None`` =
    all). ``output_dir`` ``None`` = ``<models_dir>/ner``, where the registry can find it.
    """

    desc: ClassVar[str] = "ner"

    datasets: list[str] = field(default_factory=lambda: ["conll2003"])
    train_file: str | None = None
    dev_file: str | None = None
    test_file: str | None = None
    max_sentences: int | None = None
    dev_sentences: int | None = None
    test_sentences: int | None = None
    epochs: float = 3.0
    batch_size: int = 32
    lr: float = 1e-4
    max_length: int = 256


#: Named hyper-parameter sets; values override :class:`NerTrainConfig` defaults.
#: ``quick`` fits ~10 minutes on 2 idle CPU cores; ``full`` is 3 epochs of CoNLL-2003 (GPU advised;
#: it checkpoints every ``checkpoint_every`` steps and, rerun, resumes from the newest checkpoint).
RECIPES: dict[str, dict[str, Any]] = {
    "quick": {
        "max_sentences": 4000,
        "dev_sentences": 1000,
        "epochs": 1.0,
        "batch_size": 16,
        "checkpoint_every": 0,
    },
    "full": {"resume": True},
}


def config_from_recipe(name: str, **overrides: Any) -> NerTrainConfig:
    """A :class:`NerTrainConfig` for recipe ``name`` with ``overrides`` on top (``None`` ignored).

    :raises KeyError: for an unknown recipe.
    :raises TypeError: for an override that is not a config field.
    """
    return config_from_recipe_for(NerTrainConfig, RECIPES, "ner", name, overrides)


# --------------------------------------------------------------------------- data
def default_ner_dir() -> str:
    """``<models_dir>/ner``: where ``odqa train ner`` writes by default."""
    from odqa.config import load_settings

    return str(Path(load_settings().resolved_models_dir) / "ner")


def map_types(sentence: TaggedSentence, mapping: Mapping[str, str]) -> TaggedSentence:
    """``sentence`` with its entity types renamed by ``mapping``; unmapped types become ``O``."""
    return TaggedSentence(sentence.tokens, tuple(map_tag_types(sentence.tags, mapping)), sentence.doc)


def map_tag_types(tags: Sequence[str], mapping: Mapping[str, str]) -> list[str]:
    """BIO ``tags`` with types renamed by ``mapping`` (prefixes kept); unmapped types become ``O``."""
    out = []
    for tag in tags:
        prefix, _, typ = tag.partition("-")
        out.append(f"{prefix}-{mapping[typ]}" if typ and typ in mapping else OUTSIDE)
    return out


def sample_sentences(sentences: list[TaggedSentence], n: int | None, seed: int) -> list[TaggedSentence]:
    """A seeded random sample of ``n`` sentences in file order (all of them when ``n`` is None)."""
    if n is None or n >= len(sentences):
        return sentences
    keep = sorted(random.Random(seed).sample(range(len(sentences)), n))
    return [sentences[i] for i in keep]


def _dataset_files(cfg: NerTrainConfig) -> list[tuple[str, Path, Path | None, Path | None]]:
    """``(name, train, dev, test)`` per dataset; explicit files replace the first dataset's."""
    if not cfg.datasets:
        raise ValueError("no NER dataset configured")
    out = []
    for i, name in enumerate(cfg.datasets):
        if name not in DATASETS:
            raise ValueError(f"unknown NER dataset {name!r}; datasets are {', '.join(DATASETS)}")
        train, dev, test = (Path(default_data_file(rel)) for rel in DATASETS[name])
        if i == 0:
            train = Path(cfg.train_file) if cfg.train_file else train
            dev = Path(cfg.dev_file) if cfg.dev_file else dev
            test = Path(cfg.test_file) if cfg.test_file else test
        out.append(
            (
                name,
                train,
                None if (i > 0 or cfg.dev_file == "") else dev,
                None if cfg.test_file == "" else test,
            )
        )
    return out


def _scheme(cfg: NerTrainConfig, name: str) -> Mapping[str, str] | None:
    """The type mapping applied to dataset ``name`` (WNUT-17 onto CoNLL when mixed)."""
    return WNUT_TO_CONLL if name == "wnut17" and len(cfg.datasets) > 1 else None


def load_split(
    path: Path, mapping: Mapping[str, str] | None, n: int | None, seed: int
) -> list[TaggedSentence]:
    sentences = read_conll(path)
    if mapping is not None:
        sentences = [map_types(s, mapping) for s in sentences]
    return sample_sentences(sentences, n, seed)


# --------------------------------------------------------------------------- features
def align_labels(word_ids: Sequence[int | None], word_labels: Sequence[int]) -> list[int]:
    """Token labels from word labels: a word's first sub-token gets its label, its other
    sub-tokens and special tokens (``None``) get :data:`IGNORE` (-100)."""
    out: list[int] = []
    previous: int | None = None
    for word in word_ids:
        out.append(IGNORE if word is None or word == previous else word_labels[word])
        previous = word
    return out


def encode_sentences(
    tokenizer: Any, sentences: Sequence[TaggedSentence], label2id: Mapping[str, int], max_length: int
) -> list[dict[str, np.ndarray]]:
    """Tokenised sentences with aligned labels (compact arrays, no padding)."""
    out: list[dict[str, np.ndarray]] = []
    for lo in range(0, len(sentences), _ENCODE_CHUNK):
        chunk = sentences[lo : lo + _ENCODE_CHUNK]
        enc = tokenizer(
            [list(s.tokens) for s in chunk], is_split_into_words=True, truncation=True, max_length=max_length
        )
        for i, s in enumerate(chunk):
            feature = compact_inputs(enc, i)
            labels = align_labels(enc.word_ids(i), [label2id[t] for t in s.tags])
            feature["labels"] = np.asarray(labels, dtype=np.int16)
            out.append(feature)
    return out


def collate_tokens(features: list[dict[str, np.ndarray]], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch; ``labels`` are padded with :data:`IGNORE`."""
    batch = pad_batch([{k: v for k, v in f.items() if k != "labels"} for f in features], pad_id)
    labels = np.full(tuple(batch["input_ids"].shape), IGNORE, dtype=np.int64)
    for row, f in enumerate(features):
        labels[row, : len(f["labels"])] = f["labels"]
    batch["labels"] = torch.from_numpy(labels)
    return batch


def _token_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    loss: torch.Tensor = model(**batch).loss
    return loss


# --------------------------------------------------------------------------- evaluation
def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level micro precision, recall and F1 (fractions), and per type, seqeval-style.

    :returns: ``precision``, ``recall``, ``f1``, ``entities`` (gold), ``predicted``, and
        ``precision:X``, ``recall:X``, ``f1:X``, ``support:X`` for every gold or predicted type X.
    :raises ValueError: when a sentence's gold and predicted tags differ in length.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted")
    true: set[tuple[int, str, int, int]] = set()
    found: set[tuple[int, str, int, int]] = set()
    for i, (gold_tags, pred_tags) in enumerate(zip(gold, pred, strict=True)):
        if len(gold_tags) != len(pred_tags):
            raise ValueError(f"sentence {i}: {len(gold_tags)} gold tags but {len(pred_tags)} predicted")
        true.update((i, *span) for span in bio_spans(gold_tags))
        found.update((i, *span) for span in bio_spans(pred_tags))

    def prf(t: set[Any], f: set[Any]) -> tuple[float, float, float]:
        hit = len(t & f)
        precision = hit / len(f) if f else 0.0
        recall = hit / len(t) if t else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    precision, recall, f1 = prf(true, found)
    out: dict[str, float] = {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "entities": len(true),
        "predicted": len(found),
    }
    support = Counter(span[1] for span in true)
    for typ in sorted({span[1] for span in true | found}):
        p_typ, r_typ, f_typ = prf({e for e in true if e[1] == typ}, {e for e in found if e[1] == typ})
        out.update(
            {
                f"precision:{typ}": p_typ,
                f"recall:{typ}": r_typ,
                f"f1:{typ}": f_typ,
                f"support:{typ}": support[typ],
            }
        )
    return out


def evaluate_tagger(
    tag_words: Callable[[list[list[str]]], list[list[str]]],
    sentences: Sequence[TaggedSentence],
    type_map: Mapping[str, str] | None = None,
) -> dict[str, float]:
    """:func:`entity_scores` of a tagger (pre-tokenised sentences -> BIO tags) on ``sentences``.

    :param type_map: renames the tagger's types onto the gold ones (unmapped types become ``O``),
        e.g. :data:`odqa.components.analyzers.entities.SPACY_TO_CONLL`.
    """
    predicted = tag_words([list(s.tokens) for s in sentences])
    if type_map is not None:
        predicted = [map_tag_types(tags, type_map) for tags in predicted]
    return entity_scores([list(s.tags) for s in sentences], predicted)


def model_tagger(
    model: Any, tokenizer: Any, max_length: int, batch_size: int
) -> Callable[..., list[list[str]]]:
    """A ``tag_words`` function for :func:`evaluate_tagger` from a token-classification model."""
    from odqa.components.analyzers.token_classification import predict_word_tags

    def tag_words(sentences: list[list[str]]) -> list[list[str]]:
        rows = predict_word_tags(model, tokenizer, sentences, max_length=max_length, batch_size=batch_size)
        return [[tag for tag, _ in row] for row in rows]

    return tag_words


# --------------------------------------------------------------------------- training
def train_ner(cfg: NerTrainConfig) -> TrainResult:
    """Fine-tune a BIO token classifier as ``cfg`` says, save it with its card, evaluate it on dev
    (``dev_metrics``) and test (``extra["test"][dataset]``)."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    started = time.time()
    out = Path(cfg.output_dir or default_ner_dir())
    base = base_model_path(cfg.base_model)
    files = _dataset_files(cfg)
    train: list[TaggedSentence] = []
    data: list[DataFile] = []
    for name, train_path, _, _ in files:
        part = load_split(train_path, _scheme(cfg, name), None, cfg.seed)
        train.extend(part)
        data.append(DataFile.of(train_path, f"train:{name}", conll_stats(part)))
    train = sample_sentences(train, cfg.max_sentences, cfg.seed)
    labels = label_list(train)
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(base)
    features = encode_sentences(tokenizer, train, label2id, cfg.max_length)
    log.info("ner: %d sentences, labels %s", len(features), labels)

    model: torch.nn.Module = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id
    )
    if cfg.lora:
        model = apply_lora(model, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, ["classifier"], "TOKEN_CLS")
    params = count_parameters(model)
    pad_id = tokenizer.pad_token_id
    result = train_loop(
        model,
        features,
        [len(f["input_ids"]) for f in features],
        lambda chunk: collate_tokens(chunk, pad_id),
        _token_loss,
        cfg.loop_config(),
        out,
    )
    plain = save_model_dir(model, tokenizer, out)
    tagger = model_tagger(plain, tokenizer, cfg.max_length, cfg.eval_batch_size)

    eval_started = time.time()
    dev_metrics: dict[str, float] = {}
    test_metrics: dict[str, dict[str, float]] = {}
    for name, _, dev_path, test_path in files:
        if dev_path is not None:
            dev = load_split(dev_path, _scheme(cfg, name), cfg.dev_sentences, seed=0)
            dev_metrics = evaluate_tagger(tagger, dev)
            data.append(DataFile.of(dev_path, f"dev:{name}", conll_stats(dev)))
            log.info("ner dev (%s): f1=%.4f", name, dev_metrics["f1"])
        if test_path is not None:
            test = load_split(test_path, _scheme(cfg, name), cfg.test_sentences, seed=0)
            test_metrics[name] = evaluate_tagger(tagger, test)
            data.append(DataFile.of(test_path, f"test:{name}", conll_stats(test)))
            log.info("ner test (%s): f1=%.4f", name, test_metrics[name]["f1"])

    train_result = TrainResult(
        output_dir=str(out),
        steps=result.steps,
        examples_per_s=result.items_per_s,
        final_loss=result.final_loss,
        dev_metrics=dev_metrics,
        train_seconds=result.train_seconds,
        device=result.device,
        unit="sentences",
        extra={
            "precision": result.precision,
            "reference_speed": result.reference_speed,
            "first_loss": result.first_loss,
            "resumed_from": result.resumed_from,
            "sentences": len(features),
            "labels": labels,
            "test": test_metrics,
            "parameters": params,
            "eval_seconds": round(time.time() - eval_started, 1),
            "wall_seconds": round(time.time() - started, 1),
        },
    )
    write_card(out, "ner", cfg, base, train_result, data)
    return train_result
