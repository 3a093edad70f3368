"""Recipes, config defaults and model cards."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path

import pytest

from odqa.train import reader, reranker
from odqa.train.card import CARD, MANIFEST, DataFile, write_card
from odqa.train.common import TrainResult


@pytest.mark.parametrize("module", [reader, reranker])
def test_recipes_only_name_config_fields(module: object) -> None:
    config_cls = reader.ReaderTrainConfig if module is reader else reranker.RerankerTrainConfig
    names = {f.name for f in fields(config_cls)}
    recipes = module.RECIPES  # type: ignore[attr-defined]
    assert {"quick", "full"} <= set(recipes)
    for recipe in recipes.values():
        assert set(recipe) <= names


def test_config_from_recipe_overrides_and_none() -> None:
    cfg = reader.config_from_recipe("quick", lr=1e-3, minutes=None, output_dir="x")
    assert cfg.recipe == "quick" and cfg.lr == 1e-3 and cfg.output_dir == "x"
    assert cfg.minutes == reader.RECIPES["quick"]["minutes"]  # None means "not given"
    assert reader.config_from_recipe("quick", lr="3e-4", max_examples="10").lr == 3e-4  # --param text
    with pytest.raises(TypeError, match="lr expects"):
        reader.config_from_recipe("quick", lr="fast")
    assert cfg.max_length == 192 and cfg.minutes == 12 and cfg.negatives == 0 and cfg.eval_points > 0
    assert cfg.warmup == 0.3  # of the budgeted steps
    base = reader.config_from_recipe("base")
    assert base.resume and base.checkpoint_every > 0 and base.minutes == 0 and base.max_examples is None
    full = reader.config_from_recipe("full")
    assert full.max_length == 384 and full.epochs == 8 and full.max_examples is None
    assert (full.batch_size, full.lr) == (64, 1.5e-4)  # the GPU-measured setting (reader_full_gpu.json)
    assert full.checkpoint_every > 0 and full.resume
    rr = reranker.config_from_recipe("full")
    assert set(rr.sources) == {"squad", "msmarco"}


def test_config_from_recipe_errors() -> None:
    with pytest.raises(KeyError, match="quick"):
        reader.config_from_recipe("nope")
    with pytest.raises(TypeError, match="learning_rate"):
        reranker.config_from_recipe("quick", learning_rate=1.0)


def test_card_and_manifest(tmp_path: Path) -> None:
    data_file = tmp_path / "train.json"
    data_file.write_text('{"data": []}')
    result = TrainResult(
        str(tmp_path), 12, 7.5, 1.25, {"f1": 50.0}, 30.0, "cpu", "windows", {"first_loss": 5.0}
    )
    cfg = reader.config_from_recipe("quick", command="odqa train reader --recipe quick")
    manifest = write_card(
        tmp_path, "reader", cfg, "/models/base", result, [DataFile.of(data_file, "train", {"n": 3})]
    )
    saved = json.loads((tmp_path / MANIFEST).read_text())
    assert saved == manifest
    assert saved["data"][0]["sha256"] == hashlib.sha256(data_file.read_bytes()).hexdigest()[:16]
    assert saved["training"]["windows_per_s"] == 7.5 and saved["dev_metrics"] == {"f1": 50.0}
    assert saved["hyperparameters"]["max_length"] == 192 and saved["recipe"] == "quick"
    assert saved["command"] == "odqa train reader --recipe quick"
    assert {"torch", "transformers", "peft"} <= set(saved["libraries"])
    card = (tmp_path / CARD).read_text()
    for text in (
        "# odqa reader",
        "/models/base",
        "windows_per_s",
        "odqa train reader --recipe quick",
        "TransformersExtractiveReader",
    ):
        assert text in card


def test_base_model_names_a_path_a_role_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from odqa.models import ModelUnavailableError
    from odqa.train.modeling import base_model_path

    reader_dir = tmp_path / "reader"
    reader_dir.mkdir()
    (reader_dir / "config.json").write_text("{}")
    monkeypatch.setenv("ODQA_MODELS_DIR", str(tmp_path))
    assert base_model_path("some/hub-id") == "some/hub-id"
    assert base_model_path("role:reader") == str(reader_dir)  # a re-ranker learns from the reader
    assert Path(base_model_path(None)).is_dir()  # the registry's base role (local MiniLM)
    with pytest.raises(ModelUnavailableError):
        base_model_path("role:reranker")  # nothing trained there
    with pytest.raises(ValueError, match="unknown model role"):
        base_model_path("role:nope")


def test_the_candidates_recipe_learns_from_the_reader_on_a_budget() -> None:
    cfg = reranker.config_from_recipe("candidates")
    assert cfg.sources == ["candidates"] and cfg.base_model == "role:reader"
    assert cfg.minutes > 0 and not cfg.resume  # a time budget sizes a fresh run
    assert cfg.squad_articles and cfg.candidates_index is None  # indexed once under the cache
