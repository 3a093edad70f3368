"""Model cards: every trained output directory gets ``README.md`` and ``odqa_manifest.json``.

Both say the same things -- base model, data files (sha256 prefix, size, counts), recipe and
hyper-parameters, steps, time, throughput, device, dev metrics, library versions, date and the
command -- the manifest machine-readably, the README for people.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import sys
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from odqa.train.common import TrainResult

MANIFEST = "odqa_manifest.json"
CARD = "README.md"
_LIBRARIES = ("odqa", "torch", "transformers", "tokenizers", "sentence-transformers", "peft", "haystack-ai")
_PIPELINE_TAGS = {
    "reader": "question-answering",
    "reranker": "text-ranking",
    "embedder": "sentence-similarity",
}
_USAGE = {
    "embedder": (
        "from sentence_transformers import SentenceTransformer\n\n"
        'model = SentenceTransformer("{path}")\n'
        'model.encode(["a query", "a passage"], normalize_embeddings=True)\n'
        "# in odqa: ODQA_EMBEDDER_MODEL={path}, then re-index (`odqa index`): an index keeps its embedder"
    ),
    "reader": (
        "from haystack import Document\n"
        "from haystack_integrations.components.readers.transformers import TransformersExtractiveReader\n\n"
        'reader = TransformersExtractiveReader(model="{path}")\n'
        "reader.warm_up()\n"
        'reader.run(query="...", documents=[Document(content="...")], top_k=3)'
    ),
    "reranker": (
        "from sentence_transformers import CrossEncoder\n\n"
        'model = CrossEncoder("{path}")\n'
        'model.predict([("query", "passage")])'
    ),
}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class DataFile:
    """One data file a model was trained or evaluated on."""

    role: str
    path: str
    sha256: str
    bytes: int
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, path: Path, role: str, counts: dict[str, int] | None = None) -> DataFile:
        """Describe ``path`` (a file, or a directory whose files are hashed in name order)."""
        if path.is_dir():
            digest = hashlib.sha256()
            size = 0
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(f"{child.relative_to(path)}\0{sha256_file(child)}\n".encode())
                size += child.stat().st_size
            return cls(role, str(path), digest.hexdigest()[:16], size, counts or {})
        return cls(role, str(path), sha256_file(path)[:16], path.stat().st_size, counts or {})


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_manifest(
    kind: str, cfg: Any, base_model: str, result: TrainResult, data: list[DataFile]
) -> dict[str, Any]:
    """The machine-readable facts about one trained model."""
    hyper = asdict(cfg) if is_dataclass(cfg) and not isinstance(cfg, type) else dict(cfg)
    return {
        "odqa_model": kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_model": base_model,
        "recipe": hyper.get("recipe"),
        "hyperparameters": hyper,
        "data": [asdict(d) for d in data],
        "training": {
            "steps": result.steps,
            "train_seconds": round(result.train_seconds, 1),
            f"{result.unit}_per_s": round(result.examples_per_s, 2),
            "final_loss": result.final_loss,
            "device": result.device,
            **result.extra,
        },
        "dev_metrics": result.dev_metrics,
        "libraries": library_versions(),
        "command": hyper.get("command") or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _table(rows: dict[str, Any]) -> list[str]:
    return ["| key | value |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in rows.items())]


def render_card(manifest: dict[str, Any], path: Path) -> str:
    """The README.md text for ``manifest`` (a model saved at ``path``)."""
    kind = manifest["odqa_model"]
    training = manifest["training"]
    lines = [
        "---",
        "library_name: transformers",
        f"pipeline_tag: {_PIPELINE_TAGS.get(kind, kind)}",
        "tags: [odqa]",
        "---",
        "",
        f"# odqa {kind}",
        "",
        f"Trained by odqa on {manifest['created']} from `{manifest['base_model']}`"
        f" (recipe `{manifest['recipe']}`) on {training['device']}.",
        "",
        "## Usage",
        "",
        "```python",
        _USAGE.get(kind, "").format(path=path),
        "```",
        "",
        "## Data",
        "",
        "| role | file | sha256 (prefix) | bytes | counts |",
        "|---|---|---|---:|---|",
    ]
    for d in manifest["data"]:
        counts = ", ".join(f"{k}={v}" for k, v in d["counts"].items())
        lines.append(f"| {d['role']} | `{d['path']}` | `{d['sha256']}` | {d['bytes']:,} | {counts} |")
    lines += ["", "## Training", "", *_table(training), "", "## Dev metrics", ""]
    lines += _table(manifest["dev_metrics"]) if manifest["dev_metrics"] else ["(no dev evaluation)"]
    lines += ["", "## Hyper-parameters", "", *_table(manifest["hyperparameters"])]
    lines += ["", "## Libraries", "", *_table(manifest["libraries"])]
    lines += ["", "## Command", "", "```", manifest["command"], "```", ""]
    return "\n".join(lines)


def write_card(
    output_dir: Path, kind: str, cfg: Any, base_model: str, result: TrainResult, data: list[DataFile]
) -> dict[str, Any]:
    """Write ``odqa_manifest.json`` and ``README.md`` into ``output_dir``; return the manifest."""
    manifest = build_manifest(kind, cfg, base_model, result, data)
    (output_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (output_dir / CARD).write_text(render_card(manifest, output_dir), encoding="utf-8")
    return manifest
