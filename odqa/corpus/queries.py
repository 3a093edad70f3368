"""Read a queries file in any supported format: BEIR ``queries.jsonl``, a TSV of ``qid<TAB>text``,
or a SQuAD JSON file (its questions)."""

from __future__ import annotations

from pathlib import Path

from odqa.corpus._report import ProblemCallback, ProblemReporter
from odqa.corpus.beir import read_beir_queries
from odqa.corpus.squad import iter_squad_examples
from odqa.corpus.types import Query


def read_queries(
    path: str | Path,
    *,
    strict: bool = False,
    on_problem: ProblemCallback | None = None,
    progress: bool = False,
) -> list[Query]:
    """Queries from ``path``: ``.jsonl`` (BEIR), ``.tsv``/``.txt`` (``qid<TAB>text``), ``.json`` (SQuAD).

    :raises FileNotFoundError: the path does not exist.
    :raises ValueError: the format is not recognised.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"queries file does not exist: {p}")
    if p.is_dir() or p.suffix in (".jsonl", ".gz"):
        return read_beir_queries(p, strict=strict, on_problem=on_problem, progress=progress)
    if p.suffix == ".json":
        return [Query(qid=ex.qid, text=ex.question) for ex in iter_squad_examples(p, progress=progress)]
    if p.suffix in (".tsv", ".txt"):
        reporter = ProblemReporter(p, strict=strict, on_problem=on_problem)
        out: list[Query] = []
        seen: set[str] = set()
        with open(p, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                parts = line.rstrip("\n").split("\t", 1)
                if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                    reporter.report(lineno, "expected 'qid<TAB>text'")
                elif parts[0] in seen:
                    reporter.report(lineno, f"duplicate query id {parts[0]!r} (keeping the first)")
                else:
                    seen.add(parts[0])
                    out.append(Query(qid=parts[0].strip(), text=parts[1].strip()))
        return out
    raise ValueError(
        f"{p}: unknown queries format (use .jsonl for BEIR, .tsv for qid<TAB>text, .json for SQuAD)"
    )
