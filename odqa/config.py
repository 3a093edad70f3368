"""One configuration object for odqa: defaults < config file < ``ODQA_*`` environment < CLI overrides.

Components never receive this object; the CLI and the pipeline loader turn it into plain values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "odqa"


class Settings(BaseSettings):
    """Settings shared by the CLI, the REST API and the benchmarks.

    Environment variables use the ``ODQA_`` prefix, e.g. ``ODQA_DATA_DIR``, ``ODQA_MODELS_DIR``,
    ``ODQA_READER_MODEL``. A YAML file (``ODQA_CONFIG`` or ``--config``) may set the same keys.
    """

    model_config = SettingsConfigDict(env_prefix="ODQA_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where public datasets live (shared/data).")
    cache_dir: Path = Field(default_factory=_default_cache)
    models_dir: Path | None = Field(default=None, description="Trained models; default <cache_dir>/models.")
    index_dir: Path = Field(default=Path(".odqa/index"), description="Where `odqa index` writes.")
    backend: Literal["embedded", "elasticsearch"] = "embedded"
    dense_backend: Literal["faiss", "elasticsearch"] = "faiss"
    # Elasticsearch (unset = the ELASTICSEARCH_* environment variables; secrets only from there)
    es_url: str | None = None
    es_index: str | None = None
    es_username: str | None = None
    es_ca_certs: str | None = None
    es_verify_certs: bool | None = None
    es_request_timeout: float | None = None
    device: str = Field(default="auto", description="auto | cpu | cuda | cuda:N")
    trust_pipelines: bool = Field(
        default=False, description="Run graph files naming classes outside odqa/Haystack (they are code)."
    )
    # Model roles: a local path or a hub id; None = odqa's offline default for the role.
    embedder_model: str | None = None
    reranker_model: str | None = None
    reader_model: str | None = None
    ner_model: str | None = None

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir if self.models_dir is not None else self.cache_dir / "models"

    def role_overrides(self) -> dict[str, str | None]:
        return {
            "embedder": self.embedder_model,
            "reranker": self.reranker_model,
            "reader": self.reader_model,
            "ner": self.ner_model,
        }


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional YAML file, the environment and explicit overrides.

    Precedence (highest first): ``overrides`` (CLI flags; ``None`` values are ignored), environment
    variables, the YAML file, defaults.
    """
    file_values: dict[str, Any] = {}
    path = config_file or os.environ.get("ODQA_CONFIG")
    if path:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"config file not found: {p}")
        loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{p}: expected a mapping of settings at top level")
        file_values = loaded
    env_keys = {name for name in Settings.model_fields if f"ODQA_{name.upper()}" in os.environ}
    base = Settings(**{k: v for k, v in file_values.items() if k not in env_keys})
    explicit = {k: v for k, v in overrides.items() if v is not None}
    return base.model_copy(update=explicit) if explicit else base


def resolve_device(device: str = "auto") -> str:
    """Turn ``auto`` into ``cuda`` when a GPU is visible, else ``cpu``."""
    if device != "auto":
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return "cpu"
