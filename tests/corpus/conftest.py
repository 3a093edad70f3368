"""Fixtures for the corpus tests: the shared data directory and a problem collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from odqa.corpus import Problem


def _dataset(data_dir: Path, name: str) -> Path:
    """Return ``data_dir / name``, skipping the test when that dataset is absent."""
    path = data_dir / name
    if not path.exists():
        pytest.skip(f"dataset {path} not found in ODQA_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def scifact_dir(data_dir: Path) -> Path:
    return _dataset(data_dir, "scifact")


@pytest.fixture(scope="session")
def cranfield_dir(data_dir: Path) -> Path:
    return _dataset(data_dir, "cranfield")


@pytest.fixture(scope="session")
def cisi_dir(data_dir: Path) -> Path:
    return _dataset(data_dir, "cisi")


@pytest.fixture(scope="session")
def squad_dev(data_dir: Path) -> Path:
    return _dataset(data_dir, "squad/dev-v1.1-part-a.json")


@pytest.fixture(scope="session")
def squad_train(data_dir: Path) -> Path:
    return _dataset(data_dir, "squad/train-v1.1-rebuilt.json")


@pytest.fixture
def problems() -> list[Problem]:
    """A list to pass as ``on_problem=problems.append``."""
    return []
