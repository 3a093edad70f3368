"""NER on CoNLL-2003 test: spaCy en_core_web_sm (types mapped) vs models odqa trained.

    python benchmarks/ner_conll.py [--model DIR ...] [--max-sentences N] [--name ner_conll]

Entity-level micro P/R/F1 with seqeval's conventions (odqa.train.ner.entity_scores), per type too.

spaCy predicts OntoNotes types on CoNLL's own tokens (a ``Doc`` built from them, so boundaries are
comparable); they are mapped onto CoNLL's four (odqa.components.analyzers.entities.SPACY_TO_CONLL):

* PERSON -> PER, ORG -> ORG: the same categories.
* GPE, LOC -> LOC: CoNLL's LOC covers countries, cities and geographic places alike.
* FAC -> LOC: CoNLL annotates buildings, airports and stadiums as locations.
* NORP, EVENT, PRODUCT, WORK_OF_ART, LAW, LANGUAGE -> MISC: CoNLL's MISC is exactly its
  "names that are not PER/ORG/LOC": nationalities ("German"), events, titles, languages.
* DATE, TIME, CARDINAL, ORDINAL, QUANTITY, MONEY, PERCENT -> O: CoNLL does not annotate them.

Two other mappings are scored as a sensitivity check (``names-only``: no MISC at all;
``fac-as-O``). Writes benchmarks/results/<name>.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from _common import data_dir, write_results
from rich.console import Console
from rich.table import Table

from odqa.components.analyzers.entities import SPACY_TO_CONLL
from odqa.components.analyzers.spacy_ner import SpacyNer
from odqa.components.analyzers.token_classification import TransformersNer
from odqa.corpus.conll import TaggedSentence, read_conll
from odqa.models import SPACY_DEFAULT
from odqa.train.ner import entity_scores, map_tag_types

MAPPINGS: dict[str, dict[str, str]] = {
    "default": SPACY_TO_CONLL,
    "names-only": {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"},
    "fac-as-O": {k: v for k, v in SPACY_TO_CONLL.items() if k != "FAC"},
}
TYPES = ("PER", "ORG", "LOC", "MISC")


def _row(scores: dict[str, float]) -> dict[str, float]:
    keep = ["precision", "recall", "f1", "entities", "predicted"] + [f"f1:{t}" for t in TYPES]
    return {k: round(float(scores[k]), 4) for k in keep if k in scores}


def _timed_tags(tag_words: Any, sentences: list[TaggedSentence]) -> tuple[list[list[str]], float]:
    t0 = time.perf_counter()
    tags = tag_words([list(s.tokens) for s in sentences])
    return tags, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], help="a model directory from odqa train ner")
    ap.add_argument("--spacy", default=SPACY_DEFAULT)
    ap.add_argument("--max-sentences", type=int, default=None)
    ap.add_argument("--name", default="ner_conll")
    args = ap.parse_args()

    test_file = data_dir() / "conll2003" / "test.txt"
    sentences = read_conll(test_file)[: args.max_sentences]
    gold = [list(s.tags) for s in sentences]
    results: dict[str, Any] = {}
    console = Console(width=160)

    spacy_ner = SpacyNer(args.spacy)
    spacy_ner.load()
    predicted, seconds = _timed_tags(spacy_ner.tag_words, sentences)
    results[f"spacy:{args.spacy}"] = {
        "seconds": round(seconds, 1),
        "sentences_per_s": round(len(sentences) / seconds, 1),
        **{
            f"mapping:{name}": _row(entity_scores(gold, [map_tag_types(t, mapping) for t in predicted]))
            for name, mapping in MAPPINGS.items()
        },
    }

    for model in args.model:
        ner = TransformersNer(model, device="cpu")
        ner.load()
        predicted, seconds = _timed_tags(ner.tag_words, sentences)
        manifest_path = Path(model) / "odqa_manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        results[f"odqa:{model}"] = {
            "seconds": round(seconds, 1),
            "sentences_per_s": round(len(sentences) / seconds, 1),
            "scores": _row(entity_scores(gold, predicted)),
            "training": manifest.get("training", {}),
            "hyperparameters": {
                k: manifest.get("hyperparameters", {}).get(k)
                for k in ("datasets", "max_steps", "epochs", "batch_size", "lr", "max_length", "threads")
            },
            "base_model": manifest.get("base_model"),
        }

    table = Table("system", "P", "R", "F1", *(f"F1 {t}" for t in TYPES), "sent/s")
    for system, res in results.items():
        rows = (
            [(f"{system} (mapping {k[8:]})", v) for k, v in res.items() if k.startswith("mapping:")]
            if system.startswith("spacy")
            else [(system, res["scores"])]
        )
        for label, s in rows:
            table.add_row(
                label,
                *(f"{s[k]:.4f}" for k in ("precision", "recall", "f1")),
                *(f"{s.get(f'f1:{t}', 0):.4f}" for t in TYPES),
                f"{res['sentences_per_s']}",
            )
    console.print(table)
    path = write_results(
        args.name,
        {"test_file": str(test_file), "sentences": len(sentences), "mappings": MAPPINGS, "results": results},
    )
    console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
