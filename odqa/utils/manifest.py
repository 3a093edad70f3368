"""Manifests: every persisted artefact says what made it, from which data, with which versions, when."""

from __future__ import annotations

import datetime as dt
import platform
import sys
from importlib import metadata
from typing import Any

_PACKAGES = ("odqa", "haystack-ai", "faiss-cpu", "transformers", "sentence-transformers", "torch", "numpy")


def versions(packages: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    out: dict[str, str] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def make_manifest(kind: str, **facts: Any) -> dict[str, Any]:
    """A manifest dict: ``kind``, the creation time (UTC), the command line, versions and ``facts``."""
    return {
        "kind": kind,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "versions": versions(),
        **facts,
    }
