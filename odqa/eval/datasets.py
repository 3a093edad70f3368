"""Evaluation datasets: a BEIR directory (qrels) or a SQuAD file (gold paragraph + gold answers),
and the dataset-specific index they are searched in.

* BEIR: the judged queries of ``qrels/<split>.tsv``; documents are indexed whole.
* SQuAD v1.1: every question; its qrels are ``{gold paragraph doc id: 1}`` and its gold answers
  the answer texts; paragraphs are indexed whole (one passage per paragraph), so a passage's
  ``meta["doc_id"]`` is the gold paragraph id of :func:`odqa.corpus.read_squad`.

:func:`ensure_index` builds the index with :func:`odqa.pipelines.indexing.index_collection` unless
the directory already holds an index of the same collection built the same way (its manifest
says so), e.g. one made by a benchmark script.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from odqa.corpus.load import detect_format
from odqa.corpus.types import Query

if TYPE_CHECKING:
    from odqa.pipelines.env import PipelineEnv

__all__ = [
    "INDEX_OVERRIDES",
    "EvalDataset",
    "default_index_dir",
    "ensure_index",
    "index_matches",
    "load_dataset",
]

#: indexing overrides used for every evaluation index: one passage per document / paragraph
INDEX_OVERRIDES: dict[str, dict[str, Any]] = {"splitter": {"unit": "none"}}

DatasetKind = Literal["beir", "squad"]
QuerySubset = Literal["all", "train", "dev"]
T = TypeVar("T")


@dataclass
class EvalDataset:
    """Queries with their judgements (and gold answers for QA data).

    :ivar name: a short name (the BEIR directory name or the SQuAD file stem).
    :ivar kind: ``"beir"`` or ``"squad"``.
    :ivar path: the dataset directory or file, resolved.
    :ivar split: the qrels split (BEIR) or ``"all"`` (SQuAD).
    :ivar queries: the evaluated queries, in dataset order.
    :ivar qrels: ``qid -> doc_id -> grade`` for the evaluated queries.
    :ivar answers: ``qid -> gold answer texts`` (empty for BEIR).
    :ivar contexts: ``qid -> gold paragraph text`` (empty for BEIR).
    :ivar total_queries: judged queries before ``max_queries`` was applied.
    :ivar subset: ``"all"`` judged queries, or the ``"train"`` / ``"dev"`` part of
        :func:`odqa.eval.splits.query_split` (the queries ``odqa train`` and ``odqa tune`` learn
        from / hold out).
    """

    name: str
    kind: DatasetKind
    path: Path
    split: str
    queries: list[Query]
    qrels: dict[str, dict[str, int]]
    answers: dict[str, list[str]] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)
    total_queries: int = 0
    subset: QuerySubset = "all"

    @property
    def has_answers(self) -> bool:
        """Whether gold answers are known (SQuAD data)."""
        return bool(self.answers)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (for results files)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "path": str(self.path),
            "split": self.split,
            "subset": self.subset,
            "queries": len(self.queries),
            "judged_queries": self.total_queries,
            "judgements": sum(len(d) for d in self.qrels.values()),
        }


def load_dataset(
    path: str | Path,
    *,
    split: str = "test",
    max_queries: int | None = None,
    subset: QuerySubset = "all",
) -> EvalDataset:
    """Load a BEIR directory or a SQuAD v1.1 JSON file for evaluation.

    :param path: the BEIR directory (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``)
        or a SQuAD ``.json`` file.
    :param split: the BEIR qrels split (ignored for SQuAD).
    :param max_queries: keep only the first ``max_queries`` judged queries (dataset order; of the
        ``subset`` when one is given).
    :param subset: ``"all"`` judged queries, or the ``"train"`` / ``"dev"`` part of the default
        :func:`odqa.eval.splits.query_split` of them.
    :raises FileNotFoundError: the path or the split's qrels file does not exist (the message
        lists the available splits).
    :raises ValueError: the path is neither a BEIR directory nor a SQuAD file, or it has no
        judged query.
    """
    from odqa.corpus.beir import load_beir
    from odqa.corpus.squad import read_squad

    root = Path(path).resolve()
    if max_queries is not None and max_queries < 1:
        raise ValueError(f"max_queries must be >= 1, got {max_queries}")
    if subset not in ("all", "train", "dev"):
        raise ValueError(f"query subset must be all, train or dev, got {subset!r}")
    if not root.exists():
        raise FileNotFoundError(f"dataset not found: {root}")
    try:
        kind: str = detect_format(root)
    except ValueError:
        kind = "unknown"
    if kind == "beir" and root.is_dir():
        beir = load_beir(root, split, progress=False)
        judged = beir.judged_queries
        chosen = _subset(judged, lambda q: q.qid, subset)[:max_queries]
        qrels = {q.qid: dict(beir.qrels[q.qid]) for q in chosen}
        dataset = EvalDataset(root.name, "beir", root, split, chosen, qrels, total_queries=len(judged))
    elif kind == "squad":
        _docs, examples = read_squad(root, progress=False)
        chosen_examples = _subset(examples, lambda ex: ex.qid, subset)[:max_queries]
        dataset = EvalDataset(
            root.stem,
            "squad",
            root,
            "all",
            [Query(qid=ex.qid, text=ex.question) for ex in chosen_examples],
            {ex.qid: {ex.doc_id: 1} for ex in chosen_examples},
            answers={ex.qid: list(ex.answers) for ex in chosen_examples},
            contexts={ex.qid: ex.context for ex in chosen_examples},
            total_queries=len(examples),
        )
    else:
        raise ValueError(f"{root}: not a BEIR directory (with corpus.jsonl) nor a SQuAD .json file")
    if not dataset.queries:
        raise ValueError(f"{root}: no judged query to evaluate (split {split!r})")
    dataset.subset = subset
    return dataset


def _subset(items: list[T], qid: Callable[[T], str], subset: QuerySubset) -> list[T]:
    """The ``subset`` part of ``items`` (in their order) by :func:`odqa.eval.splits.query_split`."""
    from odqa.eval.splits import query_split

    if subset == "all":
        return items
    train, dev = query_split(qid(x) for x in items)
    keep = set(train if subset == "train" else dev)
    return [x for x in items if qid(x) in keep]


def default_index_dir(base: str | Path, dataset: EvalDataset) -> Path:
    """Where the index of ``dataset`` lives by default: ``<base>/<name>-<hash of its path>``.

    :param base: the directory holding evaluation indexes (e.g. ``.odqa/eval-indexes``).
    """
    digest = hashlib.sha1(str(dataset.path).encode("utf-8")).hexdigest()[:8]
    return Path(base) / f"{dataset.name}-{digest}"


def index_matches(index_dir: str | Path, dataset: EvalDataset) -> bool:
    """Whether ``index_dir`` holds an index of ``dataset``'s collection with one passage per document.

    Compares the index manifest's ``collection`` (resolved path) and its passage splitting with
    what :func:`ensure_index` would use; settings that keep the passages (the FAISS factory, the
    embedder's precision: ``odqa index --set doc_embedder.model_precision=int8``) may differ.
    """
    manifest = Path(index_dir) / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        facts = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    collection = facts.get("collection")
    return (
        collection is not None
        and Path(collection).resolve() == dataset.path
        and (facts.get("overrides") or {}).get("splitter") == INDEX_OVERRIDES["splitter"]
    )


def ensure_index(dataset: EvalDataset, env: PipelineEnv, *, progress: bool = True) -> bool:
    """Build the index of ``dataset`` in ``env.index_dir`` unless a matching one is there already.

    :param env: the pipeline environment (its index directory, embedder, device and backends).
    :returns: ``True`` if the index was built now, ``False`` if an existing one was reused.
    :raises ValueError: ``env.index_dir`` holds an index of another collection (it is never
        replaced silently; delete it or choose another directory).
    """
    from odqa.pipelines.indexing import index_collection

    target = env.index_dir
    if index_matches(target, dataset):
        return False
    if (target / "manifest.json").is_file():
        raise ValueError(
            f"{target} holds an index of another collection (or built another way); "
            f"delete it or choose another index directory for {dataset.path}"
        )
    index_collection(dataset.path, env=env, fmt=dataset.kind, overrides=INDEX_OVERRIDES, progress=progress)
    return True
