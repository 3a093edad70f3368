"""One pipeline environment for every entry point: where the index is, which models, which device
and backends -- built once from settings, then used to open graphs and to index collections.

The CLI, the REST API, the benchmarks and the evaluation all open pipelines this way, so a setting
(``--device``, ``ODQA_BACKEND``, ``ELASTICSEARCH_URL``, a model override) reaches every graph alike.

Usage::

    from odqa.config import load_settings
    from odqa.pipelines.env import PipelineEnv, open_runner

    env = PipelineEnv.from_settings(load_settings())
    runner = open_runner(env, "qa", {"fusion": {"top_k": 5}})
    result = runner.run("In what year did Tesla die?")
    result.answers[0].data, result.final_documents, result.stages

    index_collection("collection.jsonl", env=env)   # odqa.pipelines.indexing: same settings
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odqa.components.stores.es_config import EsConfig
from odqa.models import ModelRegistry

if TYPE_CHECKING:
    from haystack import Pipeline

    from odqa.config import Settings
    from odqa.pipelines.runner import QueryRunner


class IndexNotFoundError(FileNotFoundError):
    """A query graph was opened on a directory that holds no index; the message says what to run."""


class IndexMismatchError(ValueError):
    """The index cannot serve this graph: another format, or built with another embedder."""


#: the on-disk index format this odqa writes and reads (``index_format`` in the manifest; an index
#: without it predates the field and has the same layout)
INDEX_FORMAT = 1


def check_index(index_dir: Path, embedder: str | None = None) -> dict[str, Any]:
    """The index manifest, after checking its format and (``embedder`` given) that its vectors
    came from that embedder.

    :raises IndexMismatchError: naming both sides and what to do.
    """
    import json

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    fmt = int(manifest.get("index_format", 1))
    if fmt != INDEX_FORMAT:
        newer = "a newer" if fmt > INDEX_FORMAT else "an older"
        raise IndexMismatchError(
            f"{index_dir}: index format {fmt} was written by {newer} odqa; this one reads format "
            f"{INDEX_FORMAT}: rebuild it with `odqa index` (or use the odqa that built it)"
        )
    built = (manifest.get("models") or {}).get("embedder")
    if embedder is not None and built is not None and built != embedder:
        raise IndexMismatchError(
            f"{index_dir}: the index's vectors come from embedder {built}, but this graph would embed "
            f"questions with {embedder}: rebuild the index, or set ODQA_EMBEDDER_MODEL={built}"
        )
    return manifest


@dataclass(frozen=True)
class PipelineEnv:
    """What every graph is opened with.

    :param index_dir: the index directory (``odqa index`` writes it; graphs read ``${index_dir}``).
    :param registry: resolves the graphs' model roles.
    :param device: ``auto`` (each component picks, a GPU when present), ``cpu``, ``cuda``, ``cuda:1``.
    :param backend: the BM25 side, ``embedded`` or ``elasticsearch``.
    :param es: Elasticsearch connection settings (``None``: the ``ELASTICSEARCH_*`` environment).
    :param dense: the dense side, ``faiss`` or ``elasticsearch`` (kNN).
    :param trust_pipelines: run graph files that name classes outside odqa/Haystack or keep stores
        outside the index directory (``--trust-pipeline``; a pipeline file is code).
    """

    index_dir: Path
    registry: ModelRegistry
    device: str = "auto"
    backend: str = "embedded"
    es: EsConfig | None = None
    dense: str = "faiss"
    trust_pipelines: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, **changes: Any) -> PipelineEnv:
        """The environment ``settings`` describe (index dir, models, device, backends); ``changes``
        replace fields (e.g. ``index_dir=`` for an evaluation index)."""
        from odqa.models import registry_from_settings

        es = None
        if settings.backend != "embedded" or settings.dense_backend != "faiss":
            from odqa.pipelines.backends import es_config_from_settings

            es = es_config_from_settings(settings)
        env = cls(
            index_dir=Path(settings.index_dir),
            registry=registry_from_settings(settings),
            device=settings.device,
            backend=settings.backend,
            es=es,
            dense=settings.dense_backend,
            trust_pipelines=settings.trust_pipelines,
        )
        return env.replace(**changes) if changes else env

    def replace(self, **changes: Any) -> PipelineEnv:
        """A copy with ``changes`` (``index_dir=...``, ``device=...``)."""
        if "index_dir" in changes:
            changes["index_dir"] = Path(changes["index_dir"])
        return dataclasses.replace(self, **changes)

    def with_models(self, **roles: str) -> PipelineEnv:
        """A copy whose registry resolves ``roles`` (``reader="/tmp/exp/base"``) to these models."""
        registry = ModelRegistry(self.registry.models_dir, overrides={**self.registry.overrides, **roles})
        return dataclasses.replace(self, registry=registry)

    @property
    def has_index(self) -> bool:
        """Whether ``index_dir`` holds an index (one a killed writer left between its two renames
        is put back first)."""
        if not (self.index_dir / "manifest.json").is_file():
            from odqa.utils.fs import LockedError, exclusive_lock, recover_dir

            try:
                with exclusive_lock(self.index_dir):  # never while a writer is swapping
                    recover_dir(self.index_dir)
            except LockedError:
                pass
        return (self.index_dir / "manifest.json").is_file()

    def load(self, graph: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> Pipeline:
        """The graph (a built-in name or a YAML path), built but not warmed up.

        :raises odqa.pipelines.loader.PipelineError: unknown graph, bad YAML, unknown component.
        :raises odqa.models.ModelUnavailableError: a model the graph needs is missing.
        """
        from odqa.pipelines.loader import load_pipeline

        return load_pipeline(
            graph,
            index_dir=self.index_dir,
            registry=self.registry,
            overrides=overrides,
            device=self.device,
            backend=self.backend,
            es=self.es,
            dense=self.dense,
            trust=self.trust_pipelines,
        )


def open_runner(
    env: PipelineEnv,
    graph: str | Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    warm_up: bool = True,
) -> QueryRunner:
    """A :class:`~odqa.pipelines.runner.QueryRunner` for ``graph`` in ``env``, warmed up (models
    loaded, stores opened, Elasticsearch reached) unless ``warm_up=False``.

    :raises IndexNotFoundError: the graph reads an index and ``env.index_dir`` holds none.
    :raises IndexMismatchError: the index has another format or another embedder's vectors.
    :raises odqa.pipelines.loader.PipelineError: unknown graph, bad YAML, unknown component.
    :raises odqa.models.ModelUnavailableError: a model the graph needs is missing.
    """
    from odqa.pipelines.loader import find_pipeline, placeholders
    from odqa.pipelines.runner import QueryRunner

    text = find_pipeline(graph).read_text(encoding="utf-8")
    if "index_dir" in placeholders(text):
        if not env.has_index:
            raise IndexNotFoundError(
                f"no index at {env.index_dir}: run `odqa index COLLECTION` first (or pass --index-dir)"
            )
        embedder = env.registry.resolve("embedder").location if "embedder" in placeholders(text) else None
        check_index(env.index_dir, embedder)
    runner = QueryRunner(env.load(graph, overrides))
    if warm_up:
        runner.warm_up()
    return runner
