"""Re-ranker training examples: a query, one relevant passage and hard negatives.

Three sources, each giving :class:`RerankGroup` records (positive first, then negatives):

* :func:`squad_groups` -- a SQuAD JSON file: the question, its gold paragraph, and BM25-mined
  negatives from the file's other paragraphs, leaving out any paragraph that contains a gold answer
  (those would be false negatives);
* :func:`beir_groups` -- a BEIR directory and a qrels split: one group per relevant (query, doc)
  pair, negatives among the documents not judged for the query (the hybrid graph's candidates, or
  BM25 hits);
* :func:`msmarco_groups` -- MS MARCO ``query<TAB>positive<TAB>negative`` triples, the triples'
  negatives topped up (``n_negatives`` > what the file gives) with BM25 hits among the file's
  passages.

Negatives come from :class:`odqa.components.stores.bm25_index.BM25Index`; a query with too few
BM25 hits is topped up with random passages so every group has ``n_negatives`` negatives.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odqa.components.stores.bm25_index import BM25Index

#: Extra BM25 hits fetched per query, to survive filtering out positives and answer-bearing hits.
_SLACK = 20


@dataclass(frozen=True)
class RerankGroup:
    """One training/evaluation group: ``query``, its ``positive`` passage, ``negatives``."""

    qid: str
    query: str
    positive: str
    negatives: tuple[str, ...]
    source: str

    @property
    def passages(self) -> list[str]:
        """Positive first, then the negatives."""
        return [self.positive, *self.negatives]


class NegativeMiner:
    """BM25 over a passage pool; :meth:`mine` returns the best-scoring acceptable negatives."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str], seed: int) -> None:
        self.index = BM25Index(k1=0.9, b=0.4, analyzer="standard")
        self.index.add(list(ids), list(texts))
        self.ids = list(ids)
        self.text = dict(zip(ids, texts, strict=True))
        self.rng = random.Random(seed)

    def mine(self, query: str, n: int, reject: Callable[[str, str], bool]) -> list[str]:
        """Up to ``n`` passage texts: BM25 hits for ``query``, then random ones, skipping every
        ``(id, text)`` that ``reject`` refuses."""
        if n <= 0:
            return []
        picked: list[str] = []
        seen: set[str] = set()
        for doc_id, _ in self.index.search(query, top_k=n + _SLACK):
            if len(picked) == n:
                break
            seen.add(doc_id)
            if not reject(doc_id, self.text[doc_id]):
                picked.append(self.text[doc_id])
        for _ in range(50 * n):
            if len(picked) >= n or len(seen) >= len(self.ids):
                break
            doc_id = self.rng.choice(self.ids)
            if doc_id not in seen:
                seen.add(doc_id)
                if not reject(doc_id, self.text[doc_id]):
                    picked.append(self.text[doc_id])
        return picked


def _not_answer_bearing(gold_doc: str, answers: list[str]) -> Callable[[str, str], bool]:
    """Reject the gold paragraph and any paragraph containing a gold answer (false negatives)."""
    from odqa.eval.qa import answer_in_passages

    return lambda doc_id, text: doc_id == gold_doc or answer_in_passages([text], answers, 1)


def _ids_in(ids: set[str]) -> Callable[[str, str], bool]:
    return lambda doc_id, _text: doc_id in ids


def _texts_in(texts: set[str]) -> Callable[[str, str], bool]:
    return lambda _doc_id, text: text in texts


def _sample(items: list[str], n: int | None, rng: random.Random) -> list[str]:
    if n is None or n >= len(items):
        return items
    return rng.sample(items, n)


def squad_groups(path: Path, n_negatives: int, max_questions: int | None, seed: int) -> list[RerankGroup]:
    """Groups from a SQuAD file: question, gold paragraph, BM25 negatives without the answer."""
    from odqa.corpus.squad import read_squad

    docs, examples = read_squad(path, progress=False)
    rng = random.Random(seed)
    if max_questions is not None and max_questions < len(examples):
        examples = [examples[i] for i in sorted(rng.sample(range(len(examples)), max_questions))]
    miner = NegativeMiner([d.doc_id for d in docs], [d.text for d in docs], seed)
    groups = []
    for ex in examples:
        negatives = miner.mine(ex.question, n_negatives, _not_answer_bearing(ex.doc_id, ex.answers))
        groups.append(RerankGroup(ex.qid, ex.question, ex.context, tuple(negatives), "squad"))
    return groups


def candidate_groups(
    examples: list[Any],
    candidates: Callable[[str], list[tuple[str, str]]],
    *,
    n_negatives: int,
    n_random: int,
    max_positives: int,
    pool: list[str],
    seed: int,
) -> list[RerankGroup]:
    """Groups mined from what the re-ranker sees at inference: ``candidates(question)`` is the
    graph's ranked ``(passage_id, text)`` list (e.g. the hybrid fusion's top 20).

    Positives are candidates that contain a gold answer (the gold paragraph first when it is
    there; it is added when retrieval missed it), up to ``max_positives`` per question, one group
    each. Negatives are the highest-ranked candidates *without* any gold answer (an answer-bearing
    passage is never a negative), topped up with ``n_random`` random passages from ``pool`` that
    hold no answer. ``examples`` are SQuAD ``QAExample``s.
    """
    from odqa.eval.qa import answer_in_passages

    rng = random.Random(seed)
    groups: list[RerankGroup] = []
    for ex in examples:
        ranked = candidates(ex.question)
        bearing = [t for _, t in ranked if answer_in_passages([t], ex.answers, 1)]
        positives = [ex.context] + [t for t in bearing if t != ex.context]
        hard = [t for _, t in ranked if t not in bearing and t != ex.context][
            : max(0, n_negatives - n_random)
        ]
        randoms: list[str] = []
        for _ in range(20 * n_random):
            if len(randoms) >= n_random or not pool:
                break
            t = rng.choice(pool)
            if (
                t not in hard
                and t not in randoms
                and t != ex.context
                and not answer_in_passages([t], ex.answers, 1)
            ):
                randoms.append(t)
        negatives = tuple(hard + randoms)
        if not negatives:
            continue
        for positive in positives[:max_positives]:
            groups.append(RerankGroup(ex.qid, ex.question, positive, negatives, "candidates"))
    return groups


def beir_groups(
    directory: Path,
    split: str,
    n_negatives: int,
    max_queries: int | None,
    seed: int,
    *,
    qids: Sequence[str] | None = None,
    candidates: Callable[[str], list[str]] | None = None,
    n_random: int = 1,
) -> list[RerankGroup]:
    """Groups from a BEIR dataset: one per relevant (query, document) of ``qrels/<split>.tsv``.

    ``qids`` limits the queries (e.g. the train half of :func:`odqa.eval.splits.query_split`).
    Negatives are never a document judged for the query (at any grade): with ``candidates``
    (``query -> ranked document ids``, e.g. the hybrid graph's fused top 20, what the re-ranker
    sees at inference) the highest-ranked unjudged candidates plus ``n_random`` random documents;
    without, BM25 hits over the corpus. Both are topped up with random documents to
    ``n_negatives``. Passages are ``title + "\n" + text`` (Haystack's layout when the title is
    embedded as meta).
    """
    from odqa.corpus.beir import read_beir_corpus, read_beir_queries
    from odqa.corpus.qrels import read_qrels

    docs = list(read_beir_corpus(directory, progress=False))
    texts = {d.doc_id: f"{d.title}\n{d.text}" if d.title else d.text for d in docs}
    queries = {q.qid: q.text for q in read_beir_queries(directory, progress=False)}
    qrels = read_qrels(directory / "qrels" / f"{split}.tsv")
    rng = random.Random(seed)
    allowed = set(qids) if qids is not None else None
    chosen = _sample(
        [
            q
            for q in qrels
            if q in queries and any(g > 0 for g in qrels[q].values()) and (allowed is None or q in allowed)
        ],
        max_queries,
        rng,
    )
    miner = NegativeMiner(list(texts), list(texts.values()), seed)
    groups = []
    for qid in chosen:
        judged = qrels[qid]
        if candidates is None:
            negatives = miner.mine(queries[qid], n_negatives, _ids_in(set(judged)))
        else:
            hard = [d for d in candidates(queries[qid]) if d not in judged and d in texts]
            picked = [texts[d] for d in hard[: max(0, n_negatives - n_random)]]
            # random documents (never judged, never already picked) fill the rest
            refuse = _ids_in(set(judged) | set(hard[: len(picked)]))
            negatives = picked + miner.mine("", n_negatives - len(picked), refuse)
        for doc_id, grade in judged.items():
            if grade > 0 and doc_id in texts:
                groups.append(RerankGroup(qid, queries[qid], texts[doc_id], tuple(negatives), "beir"))
    return groups


def read_triples(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """MS MARCO triples grouped by query: ``query -> (positives, negatives)``, file order."""
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                raise ValueError(f"{path}:{lineno}: expected query<TAB>positive<TAB>negative")
            query, pos, neg = parts
            positives, negatives = grouped.setdefault(query, ([], []))
            if pos not in positives:
                positives.append(pos)
            if neg not in negatives:
                negatives.append(neg)
    return grouped


def msmarco_groups(path: Path, n_negatives: int, max_queries: int | None, seed: int) -> list[RerankGroup]:
    """Groups from MS MARCO triples; negatives beyond the file's are mined among its passages."""
    grouped = read_triples(path)
    rng = random.Random(seed)
    queries = _sample(list(grouped), max_queries, rng)
    pool = sorted({p for pos, neg in grouped.values() for p in (*pos, *neg)})
    miner = NegativeMiner([f"p{i}" for i in range(len(pool))], pool, seed)
    groups = []
    for n, query in enumerate(queries):
        positives, negatives = grouped[query]
        given = negatives[:n_negatives]
        known = set(positives) | set(given)
        mined = miner.mine(query, n_negatives - len(given), _texts_in(known))
        for k, pos in enumerate(positives):
            groups.append(RerankGroup(f"msmarco-{n}-{k}", query, pos, tuple(given + mined), "msmarco"))
    return groups


def squad_subset(path: Path, articles: int, seed: int, out_dir: Path) -> Path:
    """A SQuAD file of ``articles`` articles of ``path`` sampled with ``seed`` (file order kept),
    written once (atomically) under ``out_dir`` and reused while ``path`` is unchanged (the name
    carries a hash of its location, size and modification time).

    :raises ValueError: ``articles`` is below 1 or above the file's article count.
    """
    import hashlib
    import json

    from odqa.utils.fs import atomic_write_text

    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:8]
    target = out_dir / f"{path.stem}-{key}-a{articles}-s{seed}.json"
    if target.is_file():
        return target
    data = json.loads(path.read_text(encoding="utf-8"))
    total = len(data.get("data") or [])
    if not 1 <= articles <= total:
        raise ValueError(f"{path}: squad_articles must be in [1, {total}], got {articles}")
    keep = sorted(random.Random(seed).sample(range(total), articles))
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps({**data, "data": [data["data"][i] for i in keep]}))
    return target
