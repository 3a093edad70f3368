"""An in-process BM25 index on sparse matrices with Lucene-identical scores.

Why our own: Haystack's ``InMemoryDocumentStore`` BM25 scores documents in a Python loop and uses
a different idf/length normalisation than Lucene; ``bm25s`` is fast but does not quantise document
lengths the way Lucene does, so its scores differ from Elasticsearch's. A CSC matrix of
precomputed per-(document, term) weights gives both: a query is one sparse column slice and a sum,
and the arithmetic is Lucene's (see :mod:`odqa.components.stores.lucene`).
``benchmarks/bm25_backends.py`` measures the three side by side.

Usage::

    index = BM25Index(k1=0.9, b=0.4, analyzer="standard")
    index.add(["d1", "d2"], ["sweet love", "sweet sorrow"])
    index.search("love", top_k=1)   # [("d1", 0.47...)]
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from odqa.components.stores import lucene
from odqa.components.stores.analysis import get_analyzer


class BM25Index:
    """Term-frequency matrix + Lucene BM25 weights. Rows are documents in insertion order."""

    def __init__(
        self, *, k1: float = 0.9, b: float = 0.4, analyzer: str = "standard", lucene_norms: bool = True
    ) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        self.analyzer = analyzer
        self.lucene_norms = lucene_norms
        self._tokenize = get_analyzer(analyzer)
        self.vocab: dict[str, int] = {}
        self.ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._tf_rows: list[sp.csr_matrix] = []  # pending blocks, stacked lazily
        self._tf: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._weights: sp.csc_matrix | None = None

    # ------------------------------------------------------------------ building
    def __len__(self) -> int:
        return int(self._alive.sum())

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Add (or replace) documents. A re-added id replaces the old row."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        replaced = [self._rows[i] for i in ids if i in self._rows]
        if replaced:
            self._alive[replaced] = False
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lengths = np.zeros(len(ids), dtype=np.int64)
        for r, text in enumerate(texts):
            toks = self._tokenize(text or "")
            lengths[r] = len(toks)
            for tok, cnt in Counter(toks).items():
                col = self.vocab.setdefault(tok, len(self.vocab))
                rows.append(r)
                cols.append(col)
                vals.append(cnt)
        block = sp.csr_matrix((vals, (rows, cols)), shape=(len(ids), len(self.vocab)), dtype=np.float32)
        start = len(self.ids)
        for off, doc_id in enumerate(ids):
            self._rows[doc_id] = start + off
        self.ids.extend(ids)
        self._tf_rows.append(block)
        self._lengths = np.concatenate([self._lengths, lengths])
        self._alive = np.concatenate([self._alive, np.ones(len(ids), dtype=bool)])
        self._weights = None

    def delete(self, ids: Sequence[str]) -> None:
        rows = [self._rows[i] for i in ids if i in self._rows]
        if rows:
            self._alive[rows] = False
            self._weights = None

    def _materialize_tf(self) -> sp.csr_matrix:
        if self._tf_rows:
            n_terms = len(self.vocab)
            blocks = [self._resize(self._tf, n_terms)] + [self._resize(b, n_terms) for b in self._tf_rows]
            self._tf = sp.vstack(blocks, format="csr")
            self._tf_rows = []
        return self._tf

    @staticmethod
    def _resize(m: sp.csr_matrix, n_cols: int) -> sp.csr_matrix:
        m = m.tocsr()
        if m.shape[1] != n_cols:
            m = sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], n_cols))
        return m

    def compact(self) -> None:
        """Drop deleted rows for good (done automatically on save)."""
        tf = self._materialize_tf()
        keep = np.flatnonzero(self._alive)
        if len(keep) == len(self._alive):
            return
        self._tf = tf[keep]
        self._lengths = self._lengths[keep]
        self.ids = [self.ids[i] for i in keep]
        self._rows = {d: i for i, d in enumerate(self.ids)}
        self._alive = np.ones(len(self.ids), dtype=bool)
        self._weights = None

    def _ensure_weights(self) -> sp.csc_matrix:
        if self._weights is not None:
            return self._weights
        tf = self._materialize_tf()
        alive = self._alive
        n_docs = int(alive.sum())
        lengths = self._lengths
        avgdl = float(lengths[alive].sum() / n_docs) if n_docs else 1.0
        dl = lucene.quantize_lengths(lengths) if self.lucene_norms else lengths.astype(np.float64)
        live_tf = sp.diags(alive.astype(np.float32)) @ tf
        live_tf = live_tf.tocsr()
        live_tf.eliminate_zeros()
        df = np.bincount(live_tf.indices, minlength=tf.shape[1])
        idf = lucene.idf(df, n_docs)
        coo = live_tf.tocoo()
        w = idf[coo.col] * lucene.term_score(coo.data, dl[coo.row], avgdl or 1.0, self.k1, self.b)
        self._weights = sp.csc_matrix((w.astype(np.float32), (coo.row, coo.col)), shape=tf.shape)
        self._avgdl = avgdl
        return self._weights

    # ------------------------------------------------------------------ querying
    def query_vector(
        self, query: str, boosts: dict[str, float] | None = None
    ) -> tuple[list[int], list[float]]:
        """Vocabulary columns and weights for a query: each occurrence of a term counts once, as
        Lucene's SHOULD clauses do; ``boosts`` multiplies the weight of analysed boost phrases' terms."""
        counts: dict[str, float] = dict(Counter(t for t in self._tokenize(query) if t in self.vocab))
        for phrase, boost in (boosts or {}).items():
            for tok in self._tokenize(phrase):
                if tok in self.vocab:
                    counts[tok] = counts.get(tok, 0) + boost
        cols = [self.vocab[t] for t in counts]
        return cols, [float(counts[t]) for t in counts]

    def scores(self, query: str, boosts: dict[str, float] | None = None) -> npt.NDArray[np.float32]:
        """BM25 score of every row (deleted rows score 0)."""
        w = self._ensure_weights()
        cols, qw = self.query_vector(query, boosts)
        if not cols:
            return np.zeros(w.shape[0], dtype=np.float32)
        return np.asarray(w[:, cols] @ np.asarray(qw, dtype=np.float32)).ravel()

    def search(
        self,
        query: str,
        top_k: int = 10,
        *,
        mask: npt.NDArray[np.bool_] | None = None,
        boosts: dict[str, float] | None = None,
    ) -> list[tuple[str, float]]:
        """Top ``top_k`` (id, score) pairs with score > 0, best first; ties by id descending
        (trec_eval's order). ``mask`` restricts the candidate rows (metadata filters)."""
        s = self.scores(query, boosts)
        candidates = self._alive & (s > 0)
        if mask is not None:
            candidates &= mask
        rows = np.flatnonzero(candidates)
        if len(rows) == 0 or top_k <= 0:
            return []
        if len(rows) > top_k:
            part = np.argpartition(-s[rows], top_k - 1)[:top_k]
            kth = s[rows[part]].min()
            rows = rows[s[rows] >= kth]  # keep every row tied with the k-th for a stable cut
        ordered = sorted(rows.tolist(), key=lambda r: (-float(s[r]), _neg(self.ids[r])))[:top_k]
        return [(self.ids[r], float(s[r])) for r in ordered]

    def row_of(self, doc_id: str) -> int | None:
        r = self._rows.get(doc_id)
        return r if r is not None and self._alive[r] else None

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ persistence
    def config(self) -> dict[str, Any]:
        return {"k1": self.k1, "b": self.b, "analyzer": self.analyzer, "lucene_norms": self.lucene_norms}

    def save(self, directory: str | Path) -> None:
        """Write into ``directory`` (which the caller makes atomic, see :func:`odqa.utils.fs.atomic_dir`)."""
        self.compact()
        d = Path(directory)
        sp.save_npz(d / "tf.npz", self._materialize_tf())
        np.save(d / "lengths.npy", self._lengths)
        (d / "vocab.json").write_text(json.dumps(self.vocab), encoding="utf-8")
        (d / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (d / "bm25.json").write_text(json.dumps(self.config()), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> BM25Index:
        d = Path(directory)
        idx = cls(**json.loads((d / "bm25.json").read_text(encoding="utf-8")))
        idx.vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
        idx.ids = json.loads((d / "ids.json").read_text(encoding="utf-8"))
        idx._rows = {doc_id: i for i, doc_id in enumerate(idx.ids)}
        idx._tf = sp.load_npz(d / "tf.npz").tocsr()
        idx._lengths = np.load(d / "lengths.npy")
        idx._alive = np.ones(len(idx.ids), dtype=bool)
        return idx


class _neg:
    """Sort key that orders strings descending inside an ascending sort."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def __lt__(self, other: _neg) -> bool:
        return self.s > other.s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _neg) and self.s == other.s

    def __hash__(self) -> int:
        return hash(self.s)
