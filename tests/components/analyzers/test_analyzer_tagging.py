"""EntityTagger on real SQuAD passages, and EntityFilter on what it wrote."""

from __future__ import annotations

import pytest
from haystack import Document

from odqa.components.analyzers.entities import Entity
from odqa.components.analyzers.entity_filter import EntityFilter
from odqa.components.preprocessors.entity_tagger import EntityTagger


@pytest.fixture(scope="module")
def tagged(squad_passages: list[Document]) -> list[Document]:
    tagger = EntityTagger(progress_bar=False, batch_size=16)
    tagger.warm_up()
    return tagger.run(documents=squad_passages)["documents"]


def test_tagger_writes_entity_keys_and_copies(squad_passages: list[Document], tagged: list[Document]) -> None:
    assert [d.id for d in tagged] == [d.id for d in squad_passages]
    assert all("entities" not in d.meta for d in squad_passages)  # inputs untouched
    first_tesla = next(d for d in tagged if d.meta["title"] == "Nikola Tesla")
    keys = first_tesla.meta["entities"]
    assert keys == sorted(set(keys))
    assert "nikola tesla" in keys
    assert not any(k[:4].isdigit() for k in keys)  # dates are left out by default
    warsaw = [d for d in tagged if d.meta["title"] == "Warsaw"]
    assert sum("warsaw" in d.meta["entities"] for d in warsaw) == len(warsaw)  # the title is tagged


def test_tagger_handles_empty_and_odd_passages() -> None:
    tagger = EntityTagger(progress_bar=False, types=["DATE"], include_title=False)
    docs = [
        Document(id="a", content=""),
        Document(id="b", content=None),
        Document(id="c", content="In 1856."),
    ]
    out = tagger.run(documents=docs)["documents"]
    assert [d.meta["entities"] for d in out] == [[], [], ["1856"]]
    assert EntityTagger.from_dict(tagger.to_dict()).to_dict() == tagger.to_dict()


def test_filter_keeps_passages_mentioning_a_question_entity(tagged: list[Document]) -> None:
    tesla = [Entity("Tesla", "PERSON", 17, 22)]
    out = EntityFilter(top_k=10).run(documents=tagged, entities=tesla)
    assert out["report"]["applied"] and out["report"]["keys"] == ["tesla"]
    assert 0 < len(out["documents"]) <= 10
    # "tesla" is a whole-word part of "nikola tesla", as spaCy tags him in the first paragraph
    assert all(EntityFilter.mentions(d.meta["entities"], ["tesla"]) for d in out["documents"])
    assert "Nikola_Tesla-0" in {d.id for d in out["documents"]}
    kept = [d.id for d in tagged if EntityFilter.mentions(d.meta["entities"], ["tesla"])]
    assert [d.id for d in out["documents"]] == kept[:10]  # order of the input ranking
    assert out["report"]["kept"] + out["report"]["dropped"] == len(tagged)


@pytest.mark.parametrize(
    ("flt", "entities", "reason"),
    [
        (EntityFilter(enabled=False), [Entity("Tesla", "PERSON", 0, 5)], "disabled"),
        (EntityFilter(), [], "no name entity"),
        (EntityFilter(), [Entity("1856", "DATE", 0, 4)], "no name entity"),  # numbers never filter
        (EntityFilter(), [Entity("Atlantis", "GPE", 0, 8)], "fewer than 1"),
    ],
)
def test_filter_stands_down(
    tagged: list[Document], flt: EntityFilter, entities: list[Entity], reason: str
) -> None:
    out = flt.run(documents=tagged, entities=entities, top_k=5)
    assert [d.id for d in out["documents"]] == [d.id for d in tagged[:5]]
    assert not out["report"]["applied"] and reason in out["report"]["reason"]


def test_filter_on_an_untagged_index_is_a_no_op(squad_passages: list[Document]) -> None:
    out = EntityFilter().run(documents=squad_passages, entities=[Entity("Tesla", "PERSON", 0, 5)])
    assert out["documents"] == squad_passages and "without EntityTagger" in out["report"]["reason"]
    assert EntityFilter().run(documents=[], entities=None)["documents"] == []
