"""The transformers NER backend: a BIO token-classification model (odqa's own or from the hub).

Prediction mirrors training (:mod:`odqa.train.ner`): text is split into words, the words are
tokenised with ``is_split_into_words=True`` and each word takes the label of its **first**
sub-token. BIO tags then decode into entities with :func:`odqa.corpus.conll.bio_spans` (seqeval's
conventions), whose word offsets give character spans. Texts longer than ``max_words`` words are
cut into windows, so a very long text costs time, never an error.

Usage::

    ner = TransformersNer("~/.cache/odqa/models/ner")       # or "dslim/bert-base-NER"
    ner.load()
    ner.extract(["Who founded Warsaw?"])   # [[Entity('Warsaw', 'LOC', 12, 18, score=0.98)]]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from odqa.components.analyzers.entities import Entity, canonical_label
from odqa.corpus.conll import bio_spans

#: Words: letters/digits with inner hyphens, apostrophes, dots or ampersands kept (``U.S``,
#: ``AL-AIN``, ``AT&T``), or any single other non-space character.
_WORD = re.compile(r"\w+(?:[-'’.&]\w+)*|[^\w\s]")


def split_words(text: str) -> list[tuple[str, int, int]]:
    """``(word, start, end)`` for every word of ``text`` (see ``_WORD``)."""
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


def predict_word_tags(
    model: Any,
    tokenizer: Any,
    sentences: Sequence[Sequence[str]],
    *,
    max_length: int = 256,
    batch_size: int = 32,
) -> list[list[tuple[str, float]]]:
    """``(tag, probability)`` of every word of every pre-tokenised sentence.

    Each word gets the arg-max label of its first sub-token. A word with no sub-token (cut by
    ``max_length``, or a character the tokenizer drops) gets ``("O", 0.0)``.
    """
    import torch

    id2label = {int(k): v for k, v in model.config.id2label.items()}
    device = next(model.parameters()).device
    out: list[list[tuple[str, float]]] = [[] for _ in sentences]
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    model.eval()
    for lo in range(0, len(order), batch_size):
        idx = [i for i in order[lo : lo + batch_size] if sentences[i]]
        if not idx:
            continue
        enc = tokenizer(
            [list(sentences[i]) for i in idx],
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        with torch.inference_mode():
            logits = model(**{k: v.to(device) for k, v in enc.items()}).logits.float()
        probs, best = torch.softmax(logits, dim=-1).max(dim=-1)
        probs_l, best_l = probs.cpu().tolist(), best.cpu().tolist()
        for row, i in enumerate(idx):
            tags = [("O", 0.0)] * len(sentences[i])
            previous = None
            for pos, word in enumerate(enc.word_ids(row)):
                if word is not None and word != previous:
                    tags[word] = (id2label[best_l[row][pos]], float(probs_l[row][pos]))
                previous = word
            out[i] = tags
    return out


class TransformersNer:
    """Named entities from a transformers token-classification model (a directory or a hub id).

    :param model: the model directory (e.g. ``<models_dir>/ner`` from ``odqa train ner``) or hub id.
    :param device: ``auto`` (a GPU when present), ``cpu``, ``cuda``...
    :param max_length: sub-tokens per window.
    :param max_words: words per window (long texts are cut into windows of this many words).
    :param batch_size: windows per forward pass.
    """

    kind = "transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        max_length: int = 256,
        max_words: int = 120,
        batch_size: int = 32,
    ) -> None:
        self.model = model
        self.device = device
        self.max_length = max_length
        self.max_words = max_words
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        if self._model is not None:
            return
        from pathlib import Path

        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from odqa.config import resolve_device
        from odqa.models import hub_offline

        location = str(Path(self.model).expanduser()) if self.model.startswith("~") else self.model
        offline = hub_offline()
        self._tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=offline)
        model = AutoModelForTokenClassification.from_pretrained(location, local_files_only=offline)
        self._model = model.to(resolve_device(self.device)).eval()

    @property
    def labels(self) -> list[str]:
        """The model's BIO labels, in id order."""
        self.load()
        return [self._model.config.id2label[i] for i in range(len(self._model.config.id2label))]

    def tag_words(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB2 tags (the model's own labels) for pre-tokenised sentences, one per word."""
        self.load()
        tagged = predict_word_tags(
            self._model, self._tokenizer, sentences, max_length=self.max_length, batch_size=self.batch_size
        )
        return [[tag for tag, _ in row] for row in tagged]

    def extract(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Entities of every text, with odqa labels and character offsets into that text."""
        self.load()
        words = [split_words(t) for t in texts]
        windows: list[tuple[int, int]] = []  # (text index, first word)
        for i, ws in enumerate(words):
            windows.extend((i, lo) for lo in range(0, len(ws), self.max_words))
        tagged = predict_word_tags(
            self._model,
            self._tokenizer,
            [[w for w, _, _ in words[i][lo : lo + self.max_words]] for i, lo in windows],
            max_length=self.max_length,
            batch_size=self.batch_size,
        )
        out: list[list[Entity]] = [[] for _ in texts]
        for (i, lo), tags in zip(windows, tagged, strict=True):
            ws = words[i][lo : lo + self.max_words]
            for label, s, e in bio_spans([t for t, _ in tags]):
                start, end = ws[s][1], ws[e - 1][2]
                score = sum(p for _, p in tags[s:e]) / (e - s)
                out[i].append(
                    Entity(texts[i][start:end], canonical_label(label), start, end, round(score, 4))
                )
        return out
