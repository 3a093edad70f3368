"""Train odqa's extractive reader: span prediction fine-tuned from all-MiniLM-L6-v2 on SQuAD.

The output directory is a plain Hugging Face model directory (``config.json``,
``model.safetensors``, tokenizer files) loadable by ``AutoModelForQuestionAnswering`` and by
Haystack's ``TransformersExtractiveReader``, plus a model card (``README.md``) and
``odqa_manifest.json``.

Usage::

    from odqa.train.reader import config_from_recipe, train_reader
    result = train_reader(config_from_recipe("quick", output_dir="models/reader"))
    print(result.dev_metrics)  # {"exact_match": ..., "f1": ...}
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from odqa.corpus.types import QAExample
from odqa.train.batching import pad_batch
from odqa.train.card import DataFile, write_card
from odqa.train.common import (
    TrainConfigBase,
    TrainResult,
    autocast,
    config_from_recipe_for,
    train_loop,
)
from odqa.train.modeling import (
    apply_lora,
    base_model_path,
    count_parameters,
    default_data_file,
    default_output_dir,
    save_model_dir,
)
from odqa.train.qa_features import (
    EvalFeature,
    decode_best_span,
    eval_features,
    negative_features,
    train_features,
)

log = logging.getLogger(__name__)

SQUAD_TRAIN = "squad/train-v1.1-rebuilt.json"
SQUAD_DEV = "squad/dev-v1.1-part-a.json"
AMBIGUOUS = "ambiguous-offsets.json"


@dataclass(kw_only=True)
class ReaderTrainConfig(TrainConfigBase):
    """Everything :func:`train_reader` needs; the single source of defaults (the ``full`` recipe).

    ``None`` paths resolve through odqa's settings: ``train_file``/``dev_file`` under
    ``ODQA_DATA_DIR``, ``output_dir`` to ``<models_dir>/reader`` (where the model registry looks),
    ``base_model`` to the registry's ``base`` role. ``dev_file=""`` skips the dev evaluation.

    ``negatives``: no-answer windows per training question, each the first window of another
    paragraph of the same article labelled ``[CLS]`` (0.5 = one for every other question), so that the
    reader's span scores are comparable across passages. ``val_examples``: questions held out of the
    training file (from paragraphs not trained on) that score the model ``eval_points`` times during
    the run; the best weights are kept and the scores form the learning curve (``eval_log.jsonl``).

    ``ambiguous``: SQuAD train-rebuilt has 9,438 questions whose answer text occurs several times
    in the context and whose ``answer_start`` was chosen heuristically (``ambiguous-offsets.json``
    next to the train file). ``"keep"`` trains on them (every offset reproduces its answer text),
    ``"drop"`` leaves them out.
    """

    desc: ClassVar[str] = "reader"

    train_file: str | None = None
    dev_file: str | None = None
    max_examples: int | None = None
    dev_examples: int | None = 2000
    epochs: float = 2.0
    batch_size: int = 32
    lr: float = 5e-5
    max_length: int = 384
    doc_stride: int = 128
    max_answer_length: int = 30
    n_best: int = 20
    negatives: float = 0.0
    val_examples: int = 0
    ambiguous: Literal["keep", "drop"] = "keep"
    ambiguous_file: str | None = None


#: Named hyper-parameter sets; values override :class:`ReaderTrainConfig` defaults.
#:
#: * ``quick`` (what the first run trains): a 12-minute wall-clock budget on any machine, the
#:   schedule sized from the measured step time (:mod:`odqa.train.common`); 192-token windows, batch
#:   16 and a high learning rate (a 6-layer model in a few hundred steps: optimizer steps and rate
#:   matter more than window length), bf16 where the CPU has it, the best of 4 validations kept.
#:   No no-answer windows: with ``negatives=0.5`` the same budget gave gold-paragraph F1 67.9 vs 69.5
#:   (p .15) and `qa` F1 53.3 vs 53.2 (p .94) on 1,000 dev part A questions
#:   (benchmarks/results/reader_models.json), so the simpler recipe stays. Warmup 30% of the
#:   budgeted steps: with 10% the same budget gave gold F1 70.1 vs 69.5 (p .59) but `qa` F1 51.0 vs
#:   53.4 (p .043), one run each (benchmarks/results/reader_models_warmup.json).
#: * ``base``: 1.25 epochs of all of SQuAD train at 192 tokens, batch 32, lr 1.5e-4, checkpoints,
#:   resumable. Measured 2026-11-27 on a 2-core AMD EPYC (reference fp32 10.3 / bf16 19.0 windows/s,
#:   other jobs sharing the cores at times): 4,540 steps in 100 min (102.5 min with validations and
#:   the dev evaluation), dev F1 82.5 / EM 73.7 on 1,000 dev part A questions (sampled, seed 0);
#:   validation F1 68.0 / 70.9 / 75.8 / 74.8 / 76.9 at each fifth of the run
#:   (benchmarks/results/reader_models_base.json).
#: * ``full`` (a GPU: minutes there, most of a day on 2 CPU cores): all of SQuAD train at 384 tokens,
#:   batch 64, lr 1.5e-4, up to 8 epochs, checkpoints, resumable. Measured 2026-11-27 on one NVIDIA
#:   H200 with ``--minutes 7.2`` (three settings side by side on the one GPU, the best validation
#:   F1 kept; benchmarks/results/reader_full_gpu.json): batch 64 / lr 1.5e-4 made 10,498 steps
#:   (7.7 epochs, 1,604 windows/s), validation F1 79.5, dev F1 81.5 / EM 73.2 on 1,000 dev part A
#:   questions (seed 0); batch 128 / 2e-4: 78.4 / 80.7; batch 256 / 3e-4: 77.5 / 79.9.
RECIPES: dict[str, dict[str, Any]] = {
    "quick": {
        "minutes": 12.0,
        "max_examples": 20000,
        "dev_examples": 500,
        "batch_size": 16,
        "lr": 2e-4,
        "warmup": 0.3,
        "max_length": 192,
        "doc_stride": 64,
        "val_examples": 300,
        "eval_points": 4,
        "checkpoint_every": 0,
    },
    "base": {
        "epochs": 1.25,
        "batch_size": 32,
        "lr": 1.5e-4,
        "max_length": 192,
        "doc_stride": 64,
        "dev_examples": 1000,
        "val_examples": 500,
        "eval_points": 5,
        "checkpoint_every": 200,
        "resume": True,
    },
    "full": {
        "epochs": 8.0,
        "batch_size": 64,
        "lr": 1.5e-4,
        "max_length": 384,
        "doc_stride": 128,
        "dev_examples": 1000,
        "val_examples": 1000,
        "eval_points": 4,
        "checkpoint_every": 500,
        "resume": True,
    },
}


def config_from_recipe(name: str, **overrides: Any) -> ReaderTrainConfig:
    """A :class:`ReaderTrainConfig` for recipe ``name`` with ``overrides`` on top (``None`` ignored).

    :raises KeyError: for an unknown recipe.
    :raises TypeError: for an override that is not a config field.
    """
    return config_from_recipe_for(ReaderTrainConfig, RECIPES, "reader", name, overrides)


# --------------------------------------------------------------------------- data
def _resolved_paths(cfg: ReaderTrainConfig) -> tuple[Path, Path | None, Path]:
    train = Path(cfg.train_file or default_data_file(SQUAD_TRAIN))
    dev = None if cfg.dev_file == "" else Path(cfg.dev_file or default_data_file(SQUAD_DEV))
    out = Path(cfg.output_dir or default_output_dir("reader"))
    return train, dev, out


def _ambiguous_ids(cfg: ReaderTrainConfig, train_file: Path) -> tuple[set[str], Path | None]:
    path = Path(cfg.ambiguous_file) if cfg.ambiguous_file else train_file.parent / AMBIGUOUS
    if not path.is_file():
        if cfg.ambiguous_file:
            raise FileNotFoundError(f"ambiguous-offsets file not found: {path}")
        return set(), None
    return {row["id"] for row in json.loads(path.read_text(encoding="utf-8"))}, path


def sample(examples: list[QAExample], n: int | None, seed: int) -> list[QAExample]:
    """A seeded random sample of ``n`` examples in file order (all of them when ``n`` is None)."""
    if n is None or n >= len(examples):
        return examples
    keep = sorted(random.Random(seed).sample(range(len(examples)), n))
    return [examples[i] for i in keep]


def read_examples(path: Path, drop: set[str] | None = None) -> list[QAExample]:
    """Every question of a SQuAD file, minus ``drop`` ids."""
    from odqa.corpus.squad import read_squad

    _, examples = read_squad(path, progress=False)
    return [ex for ex in examples if ex.qid not in drop] if drop else examples


def load_examples(path: Path, n: int | None, seed: int, drop: set[str] | None = None) -> list[QAExample]:
    """Questions of a SQuAD file, minus ``drop`` ids, sampled down to ``n``."""
    return sample(read_examples(path, drop), n, seed)


def validation_split(
    pool: list[QAExample], train: list[QAExample], n: int, seed: int
) -> tuple[list[QAExample], list[QAExample]]:
    """``(train, validation)``: ``n`` validation questions whose paragraphs ``train`` never sees.

    They come from ``pool``'s paragraphs outside ``train`` while enough are left (a sampled run);
    when ``train`` is the whole pool, whole paragraphs (with all their questions) are drawn out of
    ``train`` until ``n`` questions are held out.
    """
    if n <= 0:
        return train, []
    seen = {ex.context for ex in train}
    unseen = [ex for ex in pool if ex.context not in seen]
    if len(unseen) >= n:
        return train, sample(unseen, n, seed + 1)
    contexts = sorted(seen)
    random.Random(seed + 1).shuffle(contexts)
    by_context: dict[str, int] = {}
    for ex in train:
        by_context[ex.context] = by_context.get(ex.context, 0) + 1
    held: set[str] = set()
    count = 0
    for context in contexts:
        if count >= n:
            break
        held.add(context)
        count += by_context[context]
    return [ex for ex in train if ex.context not in held], [ex for ex in train if ex.context in held]


def negative_pairs(
    examples: list[QAExample], pool: list[QAExample], ratio: float, seed: int
) -> list[tuple[str, str]]:
    """``(question, other paragraph)`` pairs: about ``ratio`` per question, each paragraph drawn from
    the same article as the question's own (a topical distractor) and never containing an answer."""
    if ratio <= 0:
        return []
    by_title: dict[str, list[str]] = {}
    for ex in pool:
        contexts = by_title.setdefault(ex.title, [])
        if not contexts or contexts[-1] != ex.context:
            contexts.append(ex.context)
    rng = random.Random(seed + 2)
    pairs: list[tuple[str, str]] = []
    whole, frac = divmod(ratio, 1.0)
    for ex in examples:
        count = int(whole) + (rng.random() < frac)
        others = [
            c
            for c in by_title.get(ex.title, [])
            if c != ex.context and not any(a and a in c for a in ex.answers)
        ]
        if others:
            pairs.extend((ex.question, rng.choice(others)) for _ in range(count))
    return pairs


# --------------------------------------------------------------------------- evaluation
def _logits(model: torch.nn.Module, features: list[EvalFeature], batch_size: int, pad_id: int) -> list[Any]:
    device = next(model.parameters()).device
    order = sorted(range(len(features)), key=lambda i: len(features[i].inputs["input_ids"]))
    out: list[Any] = [None] * len(features)
    model.eval()
    with torch.inference_mode():
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch = pad_batch([features[i].inputs for i in idx], pad_id)
            with autocast(device, "fp32"):
                res = model(**{k: v.to(device) for k, v in batch.items()})
            starts = res.start_logits.float().cpu().numpy()
            ends = res.end_logits.float().cpu().numpy()
            for row, i in enumerate(idx):
                n = len(features[i].inputs["input_ids"])
                out[i] = (starts[row, :n], ends[row, :n])
    return out


def predict_answers(
    model: torch.nn.Module,
    tokenizer: Any,
    examples: list[QAExample],
    max_length: int = 384,
    doc_stride: int = 128,
    batch_size: int = 64,
    n_best: int = 20,
    max_answer_length: int = 30,
) -> dict[str, str]:
    """The best answer span of every example (``qid -> text``; ``""`` when no valid span)."""
    features = eval_features(tokenizer, examples, max_length, doc_stride)
    logits = _logits(model, features, batch_size, tokenizer.pad_token_id)
    best: dict[int, tuple[float, int, int]] = {}
    for feat, (start, end) in zip(features, logits, strict=True):
        span = decode_best_span(np.asarray(start), np.asarray(end), feat.offsets, n_best, max_answer_length)
        if span and (feat.example_index not in best or span[0] > best[feat.example_index][0]):
            best[feat.example_index] = span
    preds = {}
    for i, ex in enumerate(examples):
        span = best.get(i)
        preds[ex.qid] = ex.context[span[1] : span[2]] if span else ""
    return preds


def evaluate_reader(
    model: torch.nn.Module, tokenizer: Any, examples: list[QAExample], cfg: ReaderTrainConfig
) -> dict[str, float]:
    """SQuAD exact match and F1 (percent) of ``model`` on ``examples``."""
    from odqa.eval.qa import squad_scores

    preds = predict_answers(
        model,
        tokenizer,
        examples,
        cfg.max_length,
        cfg.doc_stride,
        cfg.eval_batch_size,
        cfg.n_best,
        cfg.max_answer_length,
    )
    scores = squad_scores(preds, {ex.qid: ex.answers for ex in examples})
    return {"exact_match": float(scores["exact_match"]), "f1": float(scores["f1"]), "examples": len(examples)}


# --------------------------------------------------------------------------- training
def _qa_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    loss: torch.Tensor = model(**batch).loss
    return loss


def train_reader(cfg: ReaderTrainConfig) -> TrainResult:
    """Fine-tune an extractive reader as ``cfg`` says, save it with its card, evaluate it on dev."""
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    started = time.time()
    train_file, dev_file, out = _resolved_paths(cfg)
    base = base_model_path(cfg.base_model)
    ambiguous, ambiguous_path = _ambiguous_ids(cfg, train_file)
    drop = ambiguous if cfg.ambiguous == "drop" else set()
    pool = read_examples(train_file, drop)
    examples = sample(pool, cfg.max_examples, cfg.seed)
    examples, validation = validation_split(pool, examples, cfg.val_examples, cfg.seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    features = train_features(tokenizer, examples, cfg.max_length, cfg.doc_stride)
    negatives = negative_features(
        tokenizer, negative_pairs(examples, pool, cfg.negatives, cfg.seed), cfg.max_length
    )
    features += negatives
    log.info(
        "reader: %d examples -> %d training windows (%d no-answer windows from other paragraphs); "
        "%d validation questions",
        len(examples),
        len(features),
        len(negatives),
        len(validation),
    )

    model: torch.nn.Module = AutoModelForQuestionAnswering.from_pretrained(base)
    if cfg.lora:
        model = apply_lora(
            model, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, ["qa_outputs"], "QUESTION_ANS"
        )
    params = count_parameters(model)
    pad_id = tokenizer.pad_token_id
    result = train_loop(
        model,
        features,
        [len(f["input_ids"]) for f in features],
        lambda chunk: pad_batch(chunk, pad_id),
        _qa_loss,
        cfg.loop_config(),
        out,
        evaluate=(lambda m: evaluate_reader(m, tokenizer, validation, cfg)) if validation else None,
    )
    plain = save_model_dir(model, tokenizer, out)

    dev_metrics: dict[str, float] = {}
    dev_examples: list[QAExample] = []
    if dev_file is not None:
        dev_examples = load_examples(dev_file, cfg.dev_examples, seed=0)
        dev_metrics = evaluate_reader(plain, tokenizer, dev_examples, cfg)
        log.info("reader dev: %s", dev_metrics)

    data = [
        DataFile.of(
            train_file,
            "train",
            {
                "questions": len(examples),
                "windows": len(features),
                "no_answer_windows": len(negatives),
                "validation_questions": len(validation),
            },
        )
    ]
    if ambiguous_path is not None:
        data.append(
            DataFile.of(ambiguous_path, "ambiguous-offsets", {"ids": len(ambiguous), "dropped": len(drop)})
        )
    if dev_file is not None:
        data.append(DataFile.of(dev_file, "dev", {"questions": len(dev_examples)}))
    train_result = TrainResult(
        output_dir=str(out),
        steps=result.steps,
        examples_per_s=result.items_per_s,
        final_loss=result.final_loss,
        dev_metrics=dev_metrics,
        train_seconds=result.train_seconds,
        device=result.device,
        unit="windows",
        extra={
            "precision": result.precision,
            "reference_speed": result.reference_speed,
            "learning_curve": result.evals,
            "best_step": result.best_step,
            "first_loss": result.first_loss,
            "resumed_from": result.resumed_from,
            "examples": len(examples),
            "windows": len(features),
            "parameters": params,
            "wall_seconds": round(time.time() - started, 1),
        },
    )
    write_card(out, "reader", cfg, base, train_result, data)
    return train_result
