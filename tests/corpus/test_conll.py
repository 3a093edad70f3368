"""CoNLL/WNUT BIO files: published counts, decoding conventions (= seqeval's), malformed input."""

from __future__ import annotations

from pathlib import Path

import pytest

from odqa.corpus.conll import (
    bio_spans,
    conll_stats,
    entity_types,
    label_list,
    read_conll,
    spans_to_bio,
)


@pytest.fixture(scope="session")
def conll_dir(data_dir: Path) -> Path:
    path = data_dir / "conll2003"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="session")
def wnut_dir(data_dir: Path) -> Path:
    path = data_dir / "wnut17"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


def test_conll2003_test_matches_published_counts(conll_dir: Path) -> None:
    sentences = read_conll(conll_dir / "test.txt")
    assert conll_stats(sentences) == {
        "documents": 231,
        "sentences": 3453,
        "tokens": 46435,
        "entities": 5648,
        "entities:LOC": 1668,
        "entities:MISC": 702,
        "entities:ORG": 1661,
        "entities:PER": 1617,
    }
    first = sentences[0]
    assert first.tokens[:3] == ("SOCCER", "-", "JAPAN") and first.tags[:3] == ("O", "O", "B-LOC")
    assert first.entities() == [("LOC", "JAPAN"), ("PER", "CHINA")]
    assert label_list(sentences) == [
        "O",
        "B-LOC",
        "I-LOC",
        "B-MISC",
        "I-MISC",
        "B-ORG",
        "I-ORG",
        "B-PER",
        "I-PER",
    ]


def test_wnut17_train_mixes_blank_and_tab_separators(wnut_dir: Path) -> None:
    # 1,000 sentences end with an empty line, 2,394 with a line holding only a tab
    stats = conll_stats(read_conll(wnut_dir / "wnut17train.conll"))
    assert (stats["sentences"], stats["tokens"], stats["entities"]) == (3394, 62730, 1975)
    test = read_conll(wnut_dir / "emerging.test.annotated")
    assert (len(test), conll_stats(test)["entities"]) == (1287, 1079)
    assert entity_types(test) == ["corporation", "creative-work", "group", "location", "person", "product"]


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
        (["B-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),  # B always opens
        (["O", "I-ORG", "I-ORG"], [("ORG", 1, 3)]),  # I after O opens (conlleval)
        (["B-LOC", "I-ORG"], [("LOC", 0, 1), ("ORG", 1, 2)]),  # type change opens
        (["I-MISC"], [("MISC", 0, 1)]),
        (["O", "O"], []),
        ([], []),
    ],
)
def test_bio_spans_follow_conlleval(tags: list[str], spans: list[tuple[str, int, int]]) -> None:
    assert bio_spans(tags) == spans


def test_bio_spans_equal_seqeval_on_real_tags(conll_dir: Path) -> None:
    seqeval = pytest.importorskip("seqeval.metrics.sequence_labeling")
    for sentence in read_conll(conll_dir / "valid.txt")[:500]:
        # corrupt the tags the way a weak model would: I- without B-, type changes mid-entity
        tags = [t.replace("B-", "I-") if i % 3 == 0 else t for i, t in enumerate(sentence.tags)]
        ours = sorted((t, s, e - 1) for t, s, e in bio_spans(tags))
        assert ours == sorted(seqeval.get_entities(tags))


def test_spans_to_bio_round_trip(conll_dir: Path) -> None:
    for sentence in read_conll(conll_dir / "test.txt")[:300]:
        assert tuple(spans_to_bio(len(sentence), bio_spans(sentence.tags))) == sentence.tags
    with pytest.raises(ValueError, match="outside"):
        spans_to_bio(2, [("PER", 1, 3)])


def test_malformed_files_name_the_line(tmp_path: Path) -> None:
    bad_tag = tmp_path / "bad.conll"
    bad_tag.write_text("Paris\tB-LOC\nis\tX-ORG\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.conll:2: 'X-ORG' is not a BIO tag"):
        read_conll(bad_tag)
    one_column = tmp_path / "one.conll"
    one_column.write_text("-DOCSTART- -X- O O\n\nParis\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"one\.conll:3: expected a token and a tag"):
        read_conll(one_column)


def test_docstart_separates_documents_and_never_becomes_a_token(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
        "-DOCSTART- -X- -X- O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
        encoding="utf-8",
    )
    sentences = read_conll(path)
    assert [(s.tokens, s.doc) for s in sentences] == [(("EU", "rejects"), 0), (("Peter", "Blackburn"), 1)]
    assert sentences[1].entities() == [("PER", "Peter Blackburn")]
    assert read_conll(tmp_path / "docs.txt", tag_column=2)[0].tags == ("B-NP", "B-VP")
