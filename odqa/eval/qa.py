r"""Extractive QA metrics: SQuAD v1.1 exact match and F1, and answer recall of passages.

The normalisation and the two scores follow the official SQuAD v1.1 evaluation script
(``evaluate-v1.1.py``) exactly:

* :func:`normalize_answer`: lowercase, drop ASCII punctuation (``string.punctuation``),
  drop the articles *a*, *an*, *the* (as whole words), collapse whitespace;
* :func:`exact_match`: 1.0 if the normalised prediction equals a normalised gold
  answer;
* :func:`f1`: bag-of-tokens F1 between the normalised prediction and a gold answer;
* both take the maximum over the gold answers, and :func:`squad_scores` averages over
  the questions and reports percentages.

As in v1.1 (unlike v2.0), an empty normalised prediction or gold answer has F1 0, even
against another empty string.

This module deliberately imports nothing else from :mod:`odqa`.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "answer_in_passages",
    "exact_match",
    "f1",
    "normalize_answer",
    "squad_scores",
]

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Normalise an answer as the official SQuAD v1.1 script does.

    Lowercase, remove punctuation characters, remove the articles ``a``/``an``/``the``
    and collapse runs of whitespace to one space (stripping the ends).

    >>> normalize_answer("The  Eiffel-Tower!")
    'eiffeltower'
    """
    text = text.lower()
    text = "".join(char for char in text if char not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _golds(gold_answers: Iterable[str]) -> list[str]:
    golds = [gold_answers] if isinstance(gold_answers, str) else list(gold_answers)
    if not golds:
        raise ValueError("gold_answers is empty: a question needs at least one gold answer to be scored")
    return golds


def _exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def _f1(prediction: str, gold: str) -> float:
    prediction_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, gold_answers: Iterable[str]) -> float:
    r"""Exact match of ``prediction`` against the best gold answer.

    .. math::

        \operatorname{EM} = \max_{g \in \text{golds}}
        \mathbb{1}[\operatorname{norm}(\text{prediction}) = \operatorname{norm}(g)]

    :param prediction: the predicted answer string.
    :param gold_answers: the accepted answers (a single string is accepted too).
    :returns: 1.0 or 0.0.
    :raises ValueError: if there is no gold answer.
    """
    return max(_exact(prediction, gold) for gold in _golds(gold_answers))


def f1(prediction: str, gold_answers: Iterable[str]) -> float:
    r"""Token-level F1 of ``prediction`` against the best gold answer.

    With :math:`P` and :math:`G` the multisets of tokens of the normalised prediction
    and gold answer, and :math:`c = |P \cap G|` (multiset intersection):

    .. math::

        \operatorname{prec} = \frac{c}{|P|}, \quad \operatorname{rec} = \frac{c}{|G|},
        \quad F_1 = \max_{g \in \text{golds}}
        \frac{2 \cdot \operatorname{prec} \cdot \operatorname{rec}}
        {\operatorname{prec} + \operatorname{rec}}

    and :math:`F_1 = 0` when :math:`c = 0`.

    :param prediction: the predicted answer string.
    :param gold_answers: the accepted answers (a single string is accepted too).
    :returns: a value in ``[0, 1]``.
    :raises ValueError: if there is no gold answer.
    """
    return max(_f1(prediction, gold) for gold in _golds(gold_answers))


def answer_in_passages(passages: Sequence[str], gold_answers: Iterable[str], k: int) -> bool:
    """Whether any of the top-``k`` passages contains a gold answer ("answer recall").

    Both the passages and the answers are normalised with :func:`normalize_answer`; a
    passage contains an answer when the answer's tokens occur in it as a contiguous run
    of whole tokens (so ``"art"`` is not found in ``"party"``).  This is the
    string-matching answer check used for top-k retrieval accuracy in DPR, with SQuAD
    normalisation instead of DPR's tokenizer.  Answers that normalise to the empty
    string (e.g. ``"the"``) never match.

    :param passages: passage texts, best first.
    :param gold_answers: the accepted answers (a single string is accepted too).
    :param k: number of top passages to look at (all of them if fewer), >= 1.
    :returns: ``True`` if a top-``k`` passage contains a gold answer.
    :raises ValueError: if ``k < 1``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    answers = [gold_answers] if isinstance(gold_answers, str) else list(gold_answers)
    needles = [f" {norm} " for norm in map(normalize_answer, answers) if norm]
    if not needles:
        return False
    for passage in passages[:k]:
        haystack = f" {normalize_answer(passage)} "
        if any(needle in haystack for needle in needles):
            return True
    return False


def squad_scores(predictions: Mapping[str, str], golds: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Dataset-level exact match and F1, as percentages, like the official script.

    Every question of ``golds`` counts; a question without a prediction scores 0 on both
    (the official script does the same, with a message).  Predictions for questions not
    in ``golds`` are ignored.

    :param predictions: ``qid -> predicted answer``.
    :param golds: ``qid -> accepted answers`` (each list non-empty).
    :returns: ``{"exact_match": ..., "f1": ..., "total": ..., "missing": ...}``:
        ``exact_match`` and ``f1`` in ``[0, 100]`` (0.0 when ``golds`` is empty),
        ``total`` the number of gold questions and ``missing`` how many had no
        prediction.
    :raises ValueError: if a question has no gold answer (or a bare string instead of a list).
    """
    exact_total = 0.0
    f1_total = 0.0
    missing = 0
    for qid, answers in golds.items():
        if isinstance(answers, str) or not answers:
            raise ValueError(f"question {qid!r}: gold answers must be a non-empty list of strings")
        if qid not in predictions:
            missing += 1
            continue
        exact_total += exact_match(predictions[qid], answers)
        f1_total += f1(predictions[qid], answers)
    total = len(golds)
    return {
        "exact_match": 100.0 * exact_total / total if total else 0.0,
        "f1": 100.0 * f1_total / total if total else 0.0,
        "total": float(total),
        "missing": float(missing),
    }
