"""``odqa ask --explain``: what query analysis found and how it changed the query and the answers.

:func:`explain` reads a :class:`~odqa.pipelines.runner.RunResult` (or its ``outputs`` mapping) of a
graph with a :class:`~odqa.components.analyzers.query_analyzer.QueryAnalyzer`, and optionally an
:class:`~odqa.components.analyzers.entity_filter.EntityFilter` and an
:class:`~odqa.components.rankers.answer_type_prior.AnswerTypePrior`; components are recognised by
their outputs, not their names. The result is a JSON-ready dict.

Usage::

    result = QueryRunner(load_pipeline("qa_ner", ...)).run("In what year did Tesla die?")
    print(json.dumps(explain(result), indent=2))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from odqa.components.analyzers.query_analyzer import QueryAnalysis
from odqa.components.stores.analysis import get_analyzer


def _outputs(result: Any) -> Mapping[str, Mapping[str, Any]]:
    outputs = getattr(result, "outputs", result)
    return outputs if isinstance(outputs, Mapping) else {}


def term_weights(query: str, boosts: Mapping[str, float], analyzer: str = "standard") -> dict[str, float]:
    """The BM25 query-term weights of ``query`` with ``boosts``, as the embedded index computes them
    (each occurrence of a term counts 1; each boosted phrase adds its boost to each of its terms)."""
    tokenize = get_analyzer(analyzer)
    weights: dict[str, float] = dict(Counter(tokenize(query)))
    for phrase, boost in boosts.items():
        for tok in tokenize(phrase):
            weights[tok] = weights.get(tok, 0.0) + boost
    return {t: float(w) for t, w in weights.items()}


def _analysis(outputs: Mapping[str, Mapping[str, Any]]) -> tuple[str, QueryAnalysis] | None:
    for name, out in outputs.items():
        if isinstance(out, Mapping) and isinstance(out.get("analysis"), QueryAnalysis):
            return name, out["analysis"]
    return None


def _filter_report(outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    for name, out in outputs.items():
        report = out.get("report") if isinstance(out, Mapping) else None
        if isinstance(report, Mapping) and "applied" in report:
            return {"component": name, **report}
    return None


def _prior(outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    for name, out in outputs.items():
        answers = out.get("answers") if isinstance(out, Mapping) else None
        if answers and any("type_match" in (getattr(a, "meta", None) or {}) for a in answers):
            return {
                "component": name,
                "answers": [
                    {
                        "answer": a.data,
                        "reader_score": round(float(a.meta.get("reader_score", a.score)), 4),
                        "score": round(float(a.score), 4),
                        "answer_type": a.meta.get("answer_type"),
                        "type_match": a.meta.get("type_match"),
                    }
                    for a in answers
                    if a.data is not None
                ],
            }
    return None


def explain(result: Any, *, analyzer: str = "standard") -> dict[str, Any]:
    """What query analysis did for one question.

    :param result: a ``RunResult`` or ``{component: {socket: value}}``.
    :param analyzer: the BM25 index's text analyzer, to show term weights as the index sees them.
    :returns: ``question``, ``entities``, ``expected_answer_type`` (``cue``, ``types``),
        ``keywords``, ``query`` (``boosts`` and the term weights ``before``/``after`` them),
        ``entity_filter`` (its report, or ``None``), ``answer_type_prior`` (per answer: reader
        score, new score, type, decision; or ``None``), ``backend`` and ``notes``. Without an
        analyzer in the graph: ``{"analyzed": False}``.
    """
    outputs = _outputs(result)
    found = _analysis(outputs)
    if found is None:
        return {"analyzed": False, "notes": ["the pipeline has no QueryAnalyzer"]}
    name, analysis = found
    before = term_weights(analysis.question, {}, analyzer)
    after = term_weights(analysis.question, analysis.boosts, analyzer)
    return {
        "analyzed": True,
        "component": name,
        "question": analysis.question,
        "entities": [e.to_dict() for e in analysis.entities],
        "expected_answer_type": {"cue": analysis.answer_type.cue, "types": list(analysis.answer_type.types)},
        "keywords": list(analysis.keywords),
        "query": {
            "boosts": dict(analysis.boosts),
            "before": before,
            "after": after,
            "changed": {t: w for t, w in after.items() if before.get(t) != w},
        },
        "entity_filter": _filter_report(outputs),
        "answer_type_prior": _prior(outputs),
        "backend": analysis.backend,
        "truncated": analysis.truncated,
        "notes": list(analysis.notes),
    }
