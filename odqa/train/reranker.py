"""Train odqa's cross-encoder re-ranker from all-MiniLM-L6-v2.

The model is ``AutoModelForSequenceClassification`` with one output: the relevance logit of a
``query [SEP] passage`` pair. The default loss is **listwise**: each training group is one
positive and ``n_negatives`` BM25-mined hard negatives, and the loss is the softmax cross-entropy
of the positive among its group (``loss="bce"`` trains pointwise instead). Listwise is the default
because on small budgets it learns faster per forward pass: every pair in a group contributes a
*relative* signal (push the positive above exactly the negatives that BM25 confused it with), it
needs no calibration of an absolute threshold and has no positive/negative class imbalance to
fight; this is the "localized contrastive estimation" result of Gao et al., 2021 (listwise over
hard negatives beats pointwise BCE for BERT re-rankers). The logits still rank as before under a
sigmoid, which is what ``CrossEncoder`` and Haystack's ranker apply.

The output directory is a plain Hugging Face model directory that loads with
``sentence_transformers.CrossEncoder(path)`` and Haystack's
``SentenceTransformersSimilarityRanker(model=path)``, plus ``README.md`` and ``odqa_manifest.json``.

Usage::

    from odqa.train.reranker import config_from_recipe, train_reranker
    result = train_reranker(config_from_recipe("quick", output_dir="models/reranker"))
    print(result.dev_metrics)  # {"mrr@10": ..., "accuracy": ...}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F

from odqa.train.batching import compact_inputs, pad_batch
from odqa.train.card import DataFile, write_card
from odqa.train.common import (
    TrainConfigBase,
    TrainResult,
    autocast,
    config_from_recipe_for,
    train_loop,
)
from odqa.train.data import (
    RerankGroup,
    beir_groups,
    candidate_groups,
    msmarco_groups,
    squad_groups,
    squad_subset,
)
from odqa.train.modeling import (
    apply_lora,
    base_model_path,
    count_parameters,
    default_data_file,
    default_output_dir,
    mining_index_dir,
    save_model_dir,
)

log = logging.getLogger(__name__)

SOURCES = ("squad", "candidates", "msmarco", "beir")
Pair = dict[str, np.ndarray]
_ENCODE_CHUNK = 1000  # groups per tokenizer call


@dataclass(kw_only=True)
class RerankerTrainConfig(TrainConfigBase):
    """Everything :func:`train_reranker` needs; the single source of defaults (the ``full`` recipe).

    ``sources`` picks the example sources among ``squad`` (BM25-mined negatives), ``candidates``,
    ``msmarco`` and ``beir``; each has its file (``None`` = the copy under ``ODQA_DATA_DIR``) and a
    cap on questions/queries (``None`` = all). A group is one positive and ``n_negatives``
    negatives. The dev set is built from the SQuAD-format ``dev_file`` (``""`` = none):
    ``dev_examples`` questions, each ranked among ``dev_negatives`` BM25 negatives.

    ``candidates`` trains on the distribution the re-ranker sees in ``qa_rerank``: the
    ``candidates_graph``'s fused top ``candidates_depth`` over ``candidates_index`` (an index of the
    SQuAD ``squad_file``; ``None``: built once under ``<cache_dir>/reranker-candidates``, of
    ``squad_articles`` articles sampled with the seed when set), answer-bearing candidates as positives (up to
    ``max_positives``), answer-free ones as negatives plus ``n_random`` random passages
    (:func:`odqa.train.data.candidate_groups`).

    ``beir`` trains on the judged queries of ``beir_dir``'s ``beir_split`` -- by default only the
    ``train`` half of :func:`odqa.eval.splits.query_split` (``beir_subset``), so ``odqa eval
    --queries dev`` measures it on queries it never saw -- with negatives from the same
    ``candidates_graph`` over an index of the collection (``beir_negatives: candidates``; never a
    judged document) or BM25 hits (``bm25``). ``pos_weight`` weighs the positive pairs of the
    pointwise ``bce`` loss (1 positive per ``n_negatives`` negatives: ``n_negatives`` balances them).
    """

    desc: ClassVar[str] = "reranker"

    sources: list[str] = field(default_factory=lambda: ["squad", "msmarco"])
    squad_file: str | None = None
    squad_questions: int | None = 30000
    msmarco_file: str | None = None
    msmarco_queries: int | None = None
    beir_dir: str | None = None
    beir_split: str = "train"
    beir_queries: int | None = None
    beir_subset: Literal["all", "train"] = "train"
    beir_negatives: Literal["candidates", "bm25"] = "candidates"
    dev_file: str | None = None
    dev_examples: int | None = 1000
    dev_negatives: int = 9
    n_negatives: int = 7
    loss: Literal["listwise", "bce"] = "listwise"
    pos_weight: float = 1.0
    candidates_index: str | None = None
    squad_articles: int | None = None
    candidates_graph: str = "hybrid"
    candidates_depth: int = 20
    n_random: int = 1
    max_positives: int = 2
    epochs: float = 1.0
    batch_size: int = 8
    lr: float = 3e-5
    max_length: int = 320


#: Named hyper-parameter sets; values override :class:`RerankerTrainConfig` defaults.
#: ``quick`` fits a few minutes on 2 idle CPU cores (the demo); ``full`` is the real model (GPU advised;
#: it checkpoints every ``checkpoint_every`` steps and, rerun, resumes from the newest checkpoint).
RECIPES: dict[str, dict[str, Any]] = {
    "quick": {
        "sources": ["squad"],
        "squad_questions": 400,
        "n_negatives": 3,
        "dev_examples": 150,
        "dev_negatives": 4,
        "epochs": 1.0,
        "batch_size": 4,
        "lr": 1e-4,
        "max_length": 192,
        "checkpoint_every": 0,
    },
    # a useful model on 2 CPU cores in about an hour: SQuAD questions with 3 BM25 hard negatives each;
    # dev ranks the gold paragraph among 19 negatives, like the `qa` graph's 20 fused candidates
    "base": {
        "sources": ["squad"],
        "squad_questions": 6000,
        "n_negatives": 3,
        "dev_examples": 300,
        "dev_negatives": 19,
        "epochs": 1.0,
        "batch_size": 8,
        "lr": 6e-5,
        "max_length": 192,
        "checkpoint_every": 200,
        "resume": True,
    },
    # the re-ranker of `qa_rerank`: learnt from the trained reader (role:reader) on what it sees at
    # inference, the hybrid's fused top 20 over a 90-article sample of SQuAD train (indexed once under
    # the cache), listwise over 1 answer-bearing positive and 7 answer-free negatives, a 30-minute
    # budget. Measured 2026-11-27 on the 2-core AMD EPYC (reference fp32 8.5 / bf16 18.6 windows/s):
    # 1,075 steps (34k pairs) in 30 min, dev MRR@10 .926 ranking the gold paragraph among 19 BM25
    # negatives (300 dev part A questions); from MiniLM instead, 86 min gave .856 (`base`), and in a
    # 6-minute pilot the reader start reached .903 where MiniLM's reached .763.
    "candidates": {
        "sources": ["candidates"],
        "base_model": "role:reader",
        "squad_articles": 90,
        "squad_questions": 6000,
        "n_negatives": 7,
        "max_positives": 1,
        "batch_size": 4,
        "lr": 6e-5,
        "max_length": 192,
        "minutes": 30.0,
        "dev_examples": 300,
        "dev_negatives": 19,
        "checkpoint_every": 0,
    },
    # in-domain re-ranking of a BEIR collection (default SciFact): the stock `candidates` re-ranker
    # (role:reranker) fine-tuned on the train half of the judged queries, negatives from the hybrid's
    # fused top 20 (judged documents never), titles included as the hybrid_rerank graph embeds them
    "beir": {
        "sources": ["beir"],
        "base_model": "role:reranker",
        "n_negatives": 7,
        "n_random": 1,
        "batch_size": 4,
        "lr": 3e-5,
        "epochs": 2.0,
        "max_length": 256,
        "dev_file": "",
        "checkpoint_every": 0,
    },
    "full": {"resume": True},
}


def config_from_recipe(name: str, **overrides: Any) -> RerankerTrainConfig:
    """A :class:`RerankerTrainConfig` for recipe ``name`` with ``overrides`` on top (``None`` ignored).

    :raises KeyError: for an unknown recipe.
    :raises TypeError: for an override that is not a config field.
    """
    return config_from_recipe_for(RerankerTrainConfig, RECIPES, "reranker", name, overrides)


# --------------------------------------------------------------------------- data
def _source_path(source: str, cfg: RerankerTrainConfig) -> Path:
    if source in ("squad", "candidates"):
        return Path(cfg.squad_file or default_data_file("squad/train-v1.1-rebuilt.json"))
    if source == "msmarco":
        return Path(cfg.msmarco_file or default_data_file("msmarco/triples.train.small.first1000.tsv"))
    if source == "beir":
        return Path(cfg.beir_dir or default_data_file("scifact"))
    raise ValueError(f"unknown reranker source {source!r}; sources are {', '.join(SOURCES)}")


def load_groups(cfg: RerankerTrainConfig) -> tuple[list[RerankGroup], list[DataFile]]:
    """Training groups of every configured source, and a description of each source's file."""
    from odqa.config import load_settings

    groups: list[RerankGroup] = []
    data: list[DataFile] = []
    for source in cfg.sources:
        path = _source_path(source, cfg)
        if source == "squad":
            got = squad_groups(path, cfg.n_negatives, cfg.squad_questions, cfg.seed)
        elif source == "candidates":
            if cfg.squad_articles is not None:  # the collection and the questions: a seeded sample
                cache = load_settings().cache_dir / "reranker-candidates"
                path = squad_subset(path, cfg.squad_articles, cfg.seed, cache)
            got = _candidate_groups(path, cfg)
        elif source == "msmarco":
            got = msmarco_groups(path, cfg.n_negatives, cfg.msmarco_queries, cfg.seed)
        else:
            got = _beir_groups(path, cfg)
        log.info("reranker: %d groups from %s (%s)", len(got), source, path)
        groups.extend(got)
        role = f"train:{source}" + (f":{cfg.beir_split}" if source == "beir" else "")
        data.append(DataFile.of(path, role, {"groups": len(got), "pairs": sum(len(g.passages) for g in got)}))
    return groups, data


def _mining_runner(dataset: Callable[[], Any], name: str, cfg: RerankerTrainConfig) -> Any:
    """The ``candidates_graph`` over ``candidates_index``, or over an index of ``dataset()`` (an
    :class:`~odqa.eval.datasets.EvalDataset`, loaded only then) built once under the cache (keyed by
    ``name`` and the embedder)."""
    from odqa.config import load_settings
    from odqa.eval.datasets import ensure_index
    from odqa.pipelines.env import PipelineEnv, open_runner

    settings = load_settings()
    index_dir = Path(
        cfg.candidates_index or mining_index_dir(settings.cache_dir / "reranker-candidates", name)
    )
    env = PipelineEnv.from_settings(settings, index_dir=index_dir)
    if not cfg.candidates_index and ensure_index(data := dataset(), env, progress=cfg.progress):
        log.info("reranker: indexed %s into %s for candidate mining", data.path, index_dir)
    return open_runner(env, cfg.candidates_graph, {"fusion": {"top_k": cfg.candidates_depth}})


def _beir_groups(root: Path, cfg: RerankerTrainConfig) -> list[RerankGroup]:
    """BEIR groups (see the config): the chosen queries, negatives as ``beir_negatives`` says."""
    from tqdm import tqdm

    from odqa.eval.datasets import load_dataset

    dataset = load_dataset(root, split=cfg.beir_split, subset=cfg.beir_subset)
    qids = [q.qid for q in dataset.queries]
    if cfg.beir_negatives == "bm25":
        return beir_groups(root, cfg.beir_split, cfg.n_negatives, cfg.beir_queries, cfg.seed, qids=qids)
    runner = _mining_runner(lambda: dataset, root.name, cfg)
    progress = tqdm(total=len(qids), desc="mining candidates", unit="q", disable=not cfg.progress)

    def candidates(query: str) -> list[str]:
        progress.update()
        ranked = runner.run(query).final_documents
        return list(dict.fromkeys(str(d.meta.get("doc_id", d.id)) for d in ranked))

    with progress:
        return beir_groups(
            root,
            cfg.beir_split,
            cfg.n_negatives,
            cfg.beir_queries,
            cfg.seed,
            qids=qids,
            candidates=candidates,
            n_random=cfg.n_random,
        )


def _candidate_groups(path: Path, cfg: RerankerTrainConfig) -> list[RerankGroup]:
    """Groups mined with the ``candidates_graph`` over ``candidates_index`` (see the config)."""
    import random as _random

    from tqdm import tqdm

    from odqa.corpus.squad import read_squad
    from odqa.eval.datasets import load_dataset

    runner = _mining_runner(lambda: load_dataset(path), path.stem, cfg)
    docs, examples = read_squad(path, progress=False)
    if cfg.squad_questions is not None and cfg.squad_questions < len(examples):
        rng = _random.Random(cfg.seed)
        examples = [examples[i] for i in sorted(rng.sample(range(len(examples)), cfg.squad_questions))]

    progress = tqdm(total=len(examples), desc="mining candidates", unit="q", disable=not cfg.progress)

    def candidates(question: str) -> list[tuple[str, str]]:
        ranked = [(d.id, d.content or "") for d in runner.run(question).final_documents]
        progress.update()
        return ranked

    with progress:
        return candidate_groups(
            examples,
            candidates,
            n_negatives=cfg.n_negatives,
            n_random=cfg.n_random,
            max_positives=cfg.max_positives,
            pool=[d.text for d in docs],
            seed=cfg.seed,
        )


def encode_groups(tokenizer: Any, groups: list[RerankGroup], max_length: int) -> list[list[Pair]]:
    """Tokenise every (query, passage) pair of every group, without padding (compact arrays)."""
    out: list[list[Pair]] = []
    for lo in range(0, len(groups), _ENCODE_CHUNK):
        chunk = groups[lo : lo + _ENCODE_CHUNK]
        queries = [g.query for g in chunk for _ in g.passages]
        passages = [p for g in chunk for p in g.passages]
        enc = tokenizer(queries, passages, truncation="longest_first", max_length=max_length, padding=False)
        i = 0
        for g in chunk:
            out.append([compact_inputs(enc, j) for j in range(i, i + len(g.passages))])
            i += len(g.passages)
    return out


def collate_groups(groups: list[list[Pair]], pad_id: int) -> dict[str, torch.Tensor]:
    """Flatten groups into one padded batch of pairs plus ``group_sizes``."""
    batch = pad_batch([pair for g in groups for pair in g], pad_id)
    batch["group_sizes"] = torch.tensor([len(g) for g in groups], dtype=torch.long)
    return batch


def _pair_scores(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    inputs = {k: v for k, v in batch.items() if k != "group_sizes"}
    return model(**inputs).logits.squeeze(-1).float()


def listwise_loss(scores: torch.Tensor, group_sizes: list[int]) -> torch.Tensor:
    """Softmax cross-entropy of each group's first (positive) score among its group."""
    padded = torch.nn.utils.rnn.pad_sequence(
        list(torch.split(scores, group_sizes)), batch_first=True, padding_value=float("-inf")
    )
    return F.cross_entropy(padded, torch.zeros(len(group_sizes), dtype=torch.long, device=scores.device))


def bce_loss(scores: torch.Tensor, group_sizes: list[int], pos_weight: float = 1.0) -> torch.Tensor:
    """Pointwise binary cross-entropy: each group's first pair is relevant, the others are not;
    ``pos_weight`` multiplies the positives' term (PyTorch's ``pos_weight``)."""
    labels = torch.cat([F.one_hot(torch.tensor(0), n) for n in group_sizes]).to(scores)
    weight = torch.tensor(pos_weight, dtype=scores.dtype, device=scores.device)
    return F.binary_cross_entropy_with_logits(scores, labels, pos_weight=weight)


def _loss_fn(kind: str, pos_weight: float = 1.0) -> Any:
    def compute(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        scores, sizes = _pair_scores(model, batch), batch["group_sizes"].tolist()
        return listwise_loss(scores, sizes) if kind == "listwise" else bce_loss(scores, sizes, pos_weight)

    return compute


# --------------------------------------------------------------------------- evaluation
def score_groups(
    model: torch.nn.Module, tokenizer: Any, groups: list[RerankGroup], max_length: int, batch_size: int = 64
) -> list[list[float]]:
    """The model's score of every passage of every group (positive first)."""
    device = next(model.parameters()).device
    encoded = [pair for g in encode_groups(tokenizer, groups, max_length) for pair in g]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]["input_ids"]))
    flat = [0.0] * len(encoded)
    model.eval()
    with torch.inference_mode():
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch = pad_batch([encoded[i] for i in idx], tokenizer.pad_token_id)
            with autocast(device, "fp32"):
                logits = model(**{k: v.to(device) for k, v in batch.items()}).logits
            for i, s in zip(idx, logits.squeeze(-1).float().cpu().tolist(), strict=True):
                flat[i] = s
    out, i = [], 0
    for g in groups:
        out.append(flat[i : i + len(g.passages)])
        i += len(g.passages)
    return out


def ranking_metrics(scores: list[list[float]], k: int = 10) -> dict[str, float]:
    """MRR@k and accuracy (positive ranked first) of the positive (index 0) in each score list.

    Ties count against the positive (a tied negative ranks above it).
    """
    if not scores:
        return {f"mrr@{k}": 0.0, "accuracy": 0.0, "groups": 0}
    ranks = [1 + sum(s >= group[0] for s in group[1:]) for group in scores]
    return {
        f"mrr@{k}": sum(1.0 / r for r in ranks if r <= k) / len(ranks),
        "accuracy": sum(r == 1 for r in ranks) / len(ranks),
        "mean_rank": sum(ranks) / len(ranks),
        "groups": len(ranks),
        "candidates": sum(len(g) for g in scores) / len(scores),
    }


# --------------------------------------------------------------------------- training
def train_reranker(cfg: RerankerTrainConfig) -> TrainResult:
    """Fine-tune a cross-encoder as ``cfg`` says, save it with its card, evaluate it on dev."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if cfg.loss not in ("listwise", "bce"):
        raise ValueError(f"loss must be 'listwise' or 'bce', got {cfg.loss!r}")
    started = time.time()
    out = Path(cfg.output_dir or default_output_dir("reranker"))
    base = base_model_path(cfg.base_model)
    groups, data = load_groups(cfg)
    tokenizer = AutoTokenizer.from_pretrained(base)
    encoded = encode_groups(tokenizer, groups, cfg.max_length)

    model: torch.nn.Module = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    if cfg.lora:
        model = apply_lora(
            model, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout, ["classifier", "pooler"], "SEQ_CLS"
        )
    params = count_parameters(model)
    pad_id = tokenizer.pad_token_id
    result = train_loop(
        model,
        encoded,
        [max(len(p["input_ids"]) for p in g) for g in encoded],
        lambda chunk: collate_groups(chunk, pad_id),
        _loss_fn(cfg.loss, cfg.pos_weight),
        cfg.loop_config(),
        out,
        size_of=len,
    )
    plain = save_model_dir(model, tokenizer, out)

    dev_metrics: dict[str, float] = {}
    if cfg.dev_file != "":
        dev_path = Path(cfg.dev_file or default_data_file("squad/dev-v1.1-part-a.json"))
        dev_groups = squad_groups(dev_path, cfg.dev_negatives, cfg.dev_examples, seed=0)
        scores = score_groups(plain, tokenizer, dev_groups, cfg.max_length, cfg.eval_batch_size)
        dev_metrics = ranking_metrics(scores)
        data.append(DataFile.of(dev_path, "dev", {"groups": len(dev_groups)}))
        log.info("reranker dev: %s", dev_metrics)

    train_result = TrainResult(
        output_dir=str(out),
        steps=result.steps,
        examples_per_s=result.items_per_s,
        final_loss=result.final_loss,
        dev_metrics=dev_metrics,
        train_seconds=result.train_seconds,
        device=result.device,
        unit="pairs",
        extra={
            "precision": result.precision,
            "reference_speed": result.reference_speed,
            "first_loss": result.first_loss,
            "resumed_from": result.resumed_from,
            "groups": len(groups),
            "pairs": sum(len(g) for g in encoded),
            "loss": cfg.loss,
            "parameters": params,
            "wall_seconds": round(time.time() - started, 1),
        },
    )
    write_card(out, "reranker", cfg, base, train_result, data)
    return train_result
