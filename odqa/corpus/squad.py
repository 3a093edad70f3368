"""Reader for SQuAD v1.1 JSON files: paragraphs become documents, questions become examples."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from odqa.corpus._report import ProblemCallback, ProblemReporter
from odqa.corpus.types import QAExample, SourceDocument

logger = logging.getLogger("odqa.corpus")

_NON_WORD = re.compile(r"[\W_]+")


def slug(title: str) -> str:
    """Make a lowercase, hyphen-separated id fragment from an article title.

    Accents are removed and every run of non-alphanumeric characters becomes one hyphen:
    ``"Financial_crisis_of_2007–08"`` -> ``"financial-crisis-of-2007-08"``.
    """
    decomposed = unicodedata.normalize("NFKD", title)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub("-", stripped.casefold()).strip("-") or "untitled"


def load_squad_json(path: str | Path) -> list[Any]:
    """Load a SQuAD file and return its top-level ``data`` list.

    :raises FileNotFoundError: When the file does not exist.
    :raises ValueError: When the file is not JSON or has no top-level ``data`` list.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            obj = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from e
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text: {e.reason}") from e
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise ValueError(f'{path}: not a SQuAD file (no top-level "data" list)')
    data: list[Any] = obj["data"]
    return data


def iter_squad(
    path: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> Iterator[tuple[SourceDocument, list[QAExample]]]:
    """Yield every paragraph of a SQuAD v1.1 file as ``(document, its questions)``.

    A paragraph becomes a :class:`SourceDocument` with id ``f"{slug(title)}-{paragraph_index}"``,
    the article title with underscores turned into spaces, and meta
    ``{"article": title, "paragraph": paragraph_index}``.

    Every answer is checked: ``context[answer_start:answer_start + len(text)] == text``. A wrong
    answer is reported and dropped; a question left without answers is skipped. Problems are
    located by a JSON path such as ``data[3].paragraphs[2].qas[5].answers[0]``.

    :param path: The SQuAD JSON file.
    :param strict: Raise :class:`~odqa.corpus.types.IngestError` at the first problem.
    :param on_problem: Called with every problem.
    :param progress: Show a progress bar (in articles).
    :raises ValueError: At call time, when the file is not a SQuAD file.
    """
    data = load_squad_json(path)
    reporter = ProblemReporter(path, strict=strict, on_problem=on_problem)
    return _iter_articles(data, reporter, progress, Path(path).name)


def iter_squad_examples(
    path: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> Iterator[QAExample]:
    """Yield the valid questions of a SQuAD v1.1 file (see :func:`iter_squad`)."""
    for _doc, examples in iter_squad(path, strict=strict, on_problem=on_problem, progress=progress):
        yield from examples


def read_squad(
    path: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = True,
) -> tuple[list[SourceDocument], list[QAExample]]:
    """Read a SQuAD v1.1 file into its paragraph documents and its questions.

    See :func:`iter_squad` for ids, validation and problems.

    :returns: ``(documents, examples)``, both in file order.
    """
    documents: list[SourceDocument] = []
    examples: list[QAExample] = []
    for doc, doc_examples in iter_squad(path, strict=strict, on_problem=on_problem, progress=progress):
        documents.append(doc)
        examples.extend(doc_examples)
    return documents, examples


def _iter_articles(
    data: list[Any], reporter: ProblemReporter, progress: bool, desc: str
) -> Iterator[tuple[SourceDocument, list[QAExample]]]:
    seen_docs: set[str] = set()
    seen_qids: set[str] = set()
    n_docs = n_questions = 0
    for a, article in enumerate(tqdm(data, desc=desc, unit="article", disable=not progress)):
        loc = f"data[{a}]"
        if not isinstance(article, dict) or not isinstance(article.get("title"), str):
            reporter.report(None, f'{loc}: article has no "title" string; article skipped')
            continue
        paragraphs = article.get("paragraphs")
        if not isinstance(paragraphs, list):
            reporter.report(None, f'{loc}: article has no "paragraphs" list; article skipped')
            continue
        raw_title: str = article["title"]
        base = slug(raw_title)
        for p, paragraph in enumerate(paragraphs):
            ploc = f"{loc}.paragraphs[{p}]"
            context = paragraph.get("context") if isinstance(paragraph, dict) else None
            if not isinstance(context, str) or not context.strip():
                reporter.report(None, f'{ploc}: missing or empty "context"; paragraph skipped')
                continue
            doc_id = f"{base}-{p}"
            if doc_id in seen_docs:
                reporter.report(None, f"{ploc}: duplicate document id {doc_id!r}; paragraph skipped")
                continue
            seen_docs.add(doc_id)
            doc = SourceDocument(
                doc_id=doc_id,
                text=context,
                title=raw_title.replace("_", " "),
                meta={"article": raw_title, "paragraph": p},
            )
            examples = _paragraph_examples(paragraph, doc, ploc, seen_qids, reporter)
            n_docs += 1
            n_questions += len(examples)
            yield doc, examples
    logger.info(
        "%s: %d paragraphs, %d questions, %d problems", reporter.path, n_docs, n_questions, reporter.count
    )


def _paragraph_examples(
    paragraph: dict[str, Any],
    doc: SourceDocument,
    ploc: str,
    seen_qids: set[str],
    reporter: ProblemReporter,
) -> list[QAExample]:
    qas = paragraph.get("qas", [])
    if not isinstance(qas, list):
        reporter.report(None, f'{ploc}: "qas" is not a list; its questions are skipped')
        return []
    examples: list[QAExample] = []
    for q, qa in enumerate(qas):
        example = _example(qa, doc, f"{ploc}.qas[{q}]", seen_qids, reporter)
        if example is not None:
            examples.append(example)
    return examples


def _example(
    qa: Any, doc: SourceDocument, qloc: str, seen_qids: set[str], reporter: ProblemReporter
) -> QAExample | None:
    if not isinstance(qa, dict):
        reporter.report(None, f"{qloc}: question is not an object; skipped")
        return None
    qid, question, answers = qa.get("id"), qa.get("question"), qa.get("answers")
    if not isinstance(qid, str) or not qid:
        reporter.report(None, f'{qloc}: missing "id"; question skipped')
        return None
    if qid in seen_qids:
        reporter.report(None, f"{qloc}: duplicate question id {qid!r}; question skipped")
        return None
    if not isinstance(question, str) or not question.strip():
        reporter.report(None, f'{qloc}: question {qid!r} has no "question" text; skipped')
        return None
    if not isinstance(answers, list) or not answers:
        reporter.report(None, f"{qloc}: question {qid!r} has no answers; skipped")
        return None
    texts: list[str] = []
    starts: list[int] = []
    errors: list[str] = []
    for i, answer in enumerate(answers):
        error = _check_answer(answer, doc.text)
        if error is None:
            texts.append(answer["text"])
            starts.append(answer["answer_start"])
        else:
            errors.append(f"{qloc}.answers[{i}]: {error}")
    for n, error in enumerate(errors, 1):
        last_and_fatal = n == len(errors) and not texts
        reporter.report(None, error + ("; question skipped, no valid answer" if last_and_fatal else ""))
    if not texts:
        return None
    seen_qids.add(qid)
    return QAExample(
        qid=qid,
        question=question,
        context=doc.text,
        answers=texts,
        answer_starts=starts,
        doc_id=doc.doc_id,
        title=doc.title,
    )


def _check_answer(answer: Any, context: str) -> str | None:
    """Return why an answer is unusable, or ``None`` when it matches the context."""
    if not isinstance(answer, dict):
        return "answer is not an object"
    text, start = answer.get("text"), answer.get("answer_start")
    if not isinstance(text, str) or not text:
        return 'missing or empty answer "text"'
    if not isinstance(start, int) or isinstance(start, bool):
        return f'answer {text!r}: missing or non-integer "answer_start"'
    found = context[start : start + len(text)] if start >= 0 else ""
    if found != text:
        return f"answer {text!r} does not match the context at {start} (found {found!r})"
    return None
