"""Thumbs up/down on answers, kept in a local JSONL file, exported as a SQuAD-format set that
``odqa eval`` scores: using the demo builds an evaluation set.

Each line is one vote (question, answer, passage, character span, vote, ids, time). The export
keeps the questions whose latest vote on some answer is *up*: that answer (its span in its passage)
is the gold answer, and the passage is the paragraph. ``odqa eval --pipeline qa --dataset
feedback.json`` then indexes those passages and scores the graph on them.

Usage::

    store = FeedbackStore(Path("~/.cache/odqa/feedback.jsonl").expanduser())
    store.add(FeedbackIn(question=..., answer=..., passage=..., span=[s, e], vote="up"))
    squad = store.export()   # {"version": "odqa-feedback", "data": [...]}
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from odqa.serve.schemas import FeedbackIn


class FeedbackError(ValueError):
    """A vote that cannot be stored (its span does not hold its answer)."""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def add(self, vote: FeedbackIn) -> dict[str, Any]:
        """Append one vote (flushed and fsynced: a crash loses no acknowledged vote)."""
        start, end = vote.span
        if not 0 <= start < end <= len(vote.passage) or vote.passage[start:end] != vote.answer:
            raise FeedbackError(f"span {vote.span} of the passage is not the answer {vote.answer!r}")
        record = {**vote.model_dump(), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        return record

    def votes(self) -> list[dict[str, Any]]:
        """Every stored vote, oldest first (a damaged line is skipped, never fatal)."""
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def export(self) -> dict[str, Any]:
        """A SQuAD v1.1-format dict of the up-voted answers (latest vote per question and answer wins)."""
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        for v in self.votes():
            latest[(v["question"], v["answer"], v["passage"])] = v
        paragraphs: dict[str, dict[str, Any]] = {}
        titles: dict[str, str] = {}
        for v in latest.values():
            if v["vote"] != "up":
                continue
            para = paragraphs.setdefault(v["passage"], {"context": v["passage"], "qas": []})
            titles.setdefault(v["passage"], v.get("title") or v.get("doc_id") or "feedback")
            qid = hashlib.sha1(f"{v['question']}\n{v['passage']}".encode()).hexdigest()[:16]
            qa = next((q for q in para["qas"] if q["id"] == qid), None)
            if qa is None:
                qa = {"id": qid, "question": v["question"], "answers": []}
                para["qas"].append(qa)
            qa["answers"].append({"text": v["answer"], "answer_start": int(v["span"][0])})
        by_title: dict[str, list[dict[str, Any]]] = {}
        for passage, para in paragraphs.items():
            by_title.setdefault(titles[passage], []).append(para)
        return {
            "version": "1.1",
            "source": "odqa-feedback",
            "data": [{"title": t, "paragraphs": ps} for t, ps in by_title.items()],
        }
