"""DPR-style contrastive fine-tuning of odqa's dense retriever (the ``embedder`` role).

A bi-encoder (all-MiniLM-L6-v2 by default) learns from judged (query, relevant passage) pairs of a
BEIR collection: each training row is ``(query, positive, hard negative...)`` and the loss is
sentence-transformers' ``MultipleNegativesRankingLoss`` -- softmax cross-entropy of the positive
against every other passage of the batch (in-batch negatives, as DPR) plus the mined hard
negatives -- or its cached variant (GradCache: large effective batches in small memory). The
trainer is sentence-transformers' own ``SentenceTransformerTrainer`` with the
``NO_DUPLICATES`` batch sampler (a passage never appears twice in a batch, where it would be a
false in-batch negative).

Hard negatives come from odqa's own ``hybrid`` graph over an index of the collection (built once
under the cache): its top ``mine_depth`` for the query, **never** a passage judged relevant, and
not a passage the stock dense model scores at least ``margin`` x the positive's score (a likely
unjudged positive: the "TopK-PercPos" false-negative filter of NV-Retriever, Moreira et al. 2024).

The development split is a seeded half of the judged queries (:func:`odqa.eval.splits.query_split`,
the split ``odqa eval --queries dev`` evaluates on); training never sees it.

Usage::

    from odqa.train.retriever import config_from_recipe, train_retriever
    result = train_retriever(config_from_recipe("quick", output_dir="models/embedder-scifact"))
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from odqa.eval.splits import DEV_SHARE, SPLIT_SEED, query_split
from odqa.train.card import DataFile, write_card
from odqa.train.common import TrainConfigBase, TrainResult, config_from_recipe_for, pick_device
from odqa.train.modeling import default_data_file, mining_index_dir

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class RetrieverTrainConfig(TrainConfigBase):
    """Everything :func:`train_retriever` needs. ``base_model`` ``None``: the registry's ``embedder``
    role (the model the index's vectors come from). ``beir_dir`` ``None``: SciFact under the data dir.
    ``index_dir`` ``None``: an index of the collection built once under ``<cache_dir>/retriever-mining``.
    ``eval_before``: score the starting model on the dev queries too (``extra["dev_before"]``).
    """

    desc: ClassVar[str] = "retriever"

    beir_dir: str | None = None
    beir_split: str = "train"
    dev_share: float = DEV_SHARE
    split_seed: int = SPLIT_SEED
    max_queries: int | None = None
    hard_negatives: int = 1
    mine_depth: int = 30
    margin: float = 0.95
    loss: Literal["mnrl", "cached"] = "mnrl"
    mini_batch_size: int = 16
    index_dir: str | None = None
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 2e-5
    max_length: int = 256
    eval_before: bool = True


RECIPES: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 1.0, "batch_size": 32, "lr": 2e-5, "hard_negatives": 1},
    "full": {"epochs": 3.0, "batch_size": 64, "loss": "cached", "hard_negatives": 3},
}


def config_from_recipe(name: str, **overrides: Any) -> RetrieverTrainConfig:
    """A :class:`RetrieverTrainConfig` for recipe ``name`` with ``overrides`` (``None`` ignored)."""
    return config_from_recipe_for(RetrieverTrainConfig, RECIPES, "retriever", name, overrides)


def _logging_steps(n_rows: int, cfg: RetrieverTrainConfig) -> int:
    """Log the loss about 20 times per run (at least every 10 steps): ``extra["loss_history"]``."""
    steps = cfg.max_steps or max(1, round(n_rows / cfg.batch_size * cfg.epochs))
    return max(1, min(10, steps // 20))


def _embedder_path(cfg: RetrieverTrainConfig) -> str:
    from odqa.config import load_settings
    from odqa.models import registry_from_settings
    from odqa.train.modeling import base_model_path

    if cfg.base_model:
        return base_model_path(cfg.base_model)
    return registry_from_settings(load_settings()).resolve("embedder").require().location


def mine_rows(
    cfg: RetrieverTrainConfig, root: Path, train_qids: list[str], base: str
) -> list[dict[str, str]]:
    """Training rows ``{"anchor", "positive", "negative_1", ...}``: one per judged (query, passage)."""
    import numpy as np
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    from odqa.config import load_settings
    from odqa.eval.datasets import ensure_index, load_dataset
    from odqa.pipelines.env import PipelineEnv, open_runner

    dataset = load_dataset(root, split=cfg.beir_split)
    texts = {d.doc_id: (f"{d.title}\n{d.text}" if d.title else d.text) for d in _corpus(root)}
    settings = load_settings()
    index_dir = Path(cfg.index_dir or mining_index_dir(settings.cache_dir / "retriever-mining", root.name))
    env = PipelineEnv.from_settings(settings, index_dir=index_dir)
    if ensure_index(dataset, env, progress=cfg.progress):
        log.info("retriever: indexed %s into %s for negative mining", root, index_dir)
    runner = open_runner(env, "hybrid", {"fusion": {"top_k": cfg.mine_depth}})
    stock = SentenceTransformer(base, device="cpu")
    queries = {q.qid: q.text for q in dataset.queries}
    rows: list[dict[str, str]] = []
    rng = random.Random(cfg.seed)
    for qid in tqdm(train_qids, desc="mining negatives", unit="q", disable=not cfg.progress):
        relevant = {d for d, g in dataset.qrels.get(qid, {}).items() if g > 0 and d in texts}
        if not relevant:
            continue
        result = runner.run(queries[qid])
        # candidates as the positives are written (title + text), by document: a passage of the
        # index carries its title in meta, and a negative without one would teach "no title line"
        cand_ids = list(dict.fromkeys(str(d.meta.get("doc_id", d.id)) for d in result.final_documents))
        cands = [texts[d] for d in cand_ids if d not in relevant and d in texts]
        q_emb, *p_embs = stock.encode(
            [queries[qid], *[texts[d] for d in sorted(relevant)]], normalize_embeddings=True
        )
        c_embs: Any = stock.encode(cands, normalize_embeddings=True) if cands else []
        for pos, p_emb in zip(sorted(relevant), p_embs, strict=True):
            ceiling = cfg.margin * float(np.dot(q_emb, p_emb))
            negs = [c for c, e in zip(cands, c_embs, strict=True) if float(np.dot(q_emb, e)) < ceiling]
            if len(negs) < cfg.hard_negatives:  # top up with random passages (never relevant)
                pool = [t for d, t in texts.items() if d not in relevant]
                negs += rng.sample(pool, cfg.hard_negatives - len(negs))
            row = {"anchor": queries[qid], "positive": texts[pos]}
            row.update({f"negative_{i + 1}": n for i, n in enumerate(negs[: cfg.hard_negatives])})
            rows.append(row)
    return rows


def _corpus(root: Path) -> list[Any]:
    from odqa.corpus.beir import read_beir_corpus

    return list(read_beir_corpus(root, progress=False))


def train_retriever(cfg: RetrieverTrainConfig) -> TrainResult:
    """Fine-tune the bi-encoder as ``cfg`` says, save it with its card, report dev nDCG@10."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    from odqa.config import load_settings
    from odqa.corpus.beir import read_beir_queries
    from odqa.corpus.qrels import read_qrels
    from odqa.train.speed import reference_speed

    ref = reference_speed() if cfg.measure_speed else None
    if ref is not None:
        log.info("%s", ref.summary())
    unsupported = {
        name: value
        for name, value in (
            ("lora", cfg.lora),
            ("resume", cfg.resume),
            ("minutes", cfg.minutes),
            ("eval_points", cfg.eval_points),
        )
        if value
    }
    if unsupported:
        raise ValueError(
            f"the retriever trainer does not support {', '.join(unsupported)} "
            "(sentence-transformers' trainer runs it)"
        )
    device = pick_device(cfg.device, cfg.threads)
    root = Path(cfg.beir_dir or default_data_file("scifact"))
    out = Path(cfg.output_dir or load_settings().resolved_models_dir / "embedder-tuned")
    base = _embedder_path(cfg)
    qrels = read_qrels(root / "qrels" / f"{cfg.beir_split}.tsv")
    train_qids, dev_qids = query_split(qrels, cfg.dev_share, cfg.split_seed)
    if cfg.max_queries is not None:
        train_qids = train_qids[: cfg.max_queries]
    rows = mine_rows(cfg, root, train_qids, base)
    if not rows:
        raise ValueError(f"{root}: no training pairs (judged queries with a relevant document in the corpus)")
    log.info("retriever: %d training rows from %d queries", len(rows), len(train_qids))

    model = SentenceTransformer(base, device=str(device))
    model.max_seq_length = cfg.max_length
    if cfg.loss == "cached":
        loss: Any = CachedMultipleNegativesRankingLoss(model, mini_batch_size=cfg.mini_batch_size)
    else:
        loss = MultipleNegativesRankingLoss(model)
    evaluator = None
    if dev_qids and cfg.dev_share > 0:
        queries = {q.qid: q.text for q in read_beir_queries(root, progress=False)}
        corpus = {d.doc_id: (f"{d.title}\n{d.text}" if d.title else d.text) for d in _corpus(root)}
        evaluator = InformationRetrievalEvaluator(
            queries={q: queries[q] for q in dev_qids if q in queries},
            corpus=corpus,
            relevant_docs={q: {d for d, g in qrels[q].items() if g > 0} for q in dev_qids},
            name="dev",
            ndcg_at_k=[10],
            mrr_at_k=[10],
            accuracy_at_k=[1],
            precision_recall_at_k=[100],
            map_at_k=[100],
            show_progress_bar=cfg.progress,
            batch_size=cfg.eval_batch_size,
        )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.lr,
        warmup_ratio=cfg.warmup,
        weight_decay=cfg.weight_decay,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        logging_steps=_logging_steps(len(rows), cfg),
        report_to=[],
        seed=cfg.seed,
        disable_tqdm=not cfg.progress,
        use_cpu=device.type == "cpu",
        gradient_accumulation_steps=cfg.grad_accum,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), loss=loss
    )
    before: dict[str, float] = {}
    if evaluator is not None and cfg.eval_before:  # the stock model on the same dev queries
        before = {k.removeprefix("dev_"): float(v) for k, v in evaluator(model).items()}
    started = time.perf_counter()
    train_out = trainer.train()
    seconds = time.perf_counter() - started
    model.save(str(out))
    dev = {k.removeprefix("dev_"): float(v) for k, v in (evaluator(model) if evaluator else {}).items()}
    result = TrainResult(
        str(out),
        int(train_out.global_step),
        len(rows) * cfg.epochs / max(seconds, 1e-9),
        float(train_out.training_loss),
        dev,
        seconds,
        device.type,
        "pairs",
        {
            "rows": len(rows),
            "train_queries": len(train_qids),
            "dev_queries": len(dev_qids),
            "loss": cfg.loss,
            "loss_history": [
                (int(e["step"]), float(e["loss"])) for e in trainer.state.log_history if "loss" in e
            ],
            **({"dev_before": before} if before else {}),
            **({"reference_speed": ref.as_dict()} if ref is not None else {}),
        },
    )
    data = [DataFile.of(root / "qrels" / f"{cfg.beir_split}.tsv", "train+dev", {"rows": len(rows)})]
    write_card(out, "embedder", cfg, base, result, data)
    return result
