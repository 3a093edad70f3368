"""Find, fill in and load the YAML pipeline graphs with Haystack's own loader.

A graph file is Haystack's YAML serialisation with ``${name}`` placeholders:

* ``${index_dir}`` -- where ``odqa index`` wrote the stores;
* ``${embedder}``, ``${reranker}``, ``${reader}``, ``${ner}`` -- model roles resolved by
  :class:`odqa.models.ModelRegistry` (only the roles a graph mentions are resolved, and each must be
  available, or loading fails at once naming the command that provides it);
* ``${local_files_only}`` -- ``true`` when ``HF_HUB_OFFLINE`` is set.

Users can pass their own YAML file instead of a built-in name.

Usage::

    pipe = load_pipeline("qa", index_dir=".odqa/index", registry=ModelRegistry("~/.cache/odqa/models"))
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from haystack import Pipeline
from haystack.core.serialization import DeserializationCallbacks
from haystack.utils import ComponentDevice

from odqa.components.stores.es_config import EsConfig
from odqa.models import ROLES, ModelRegistry, hub_offline
from odqa.pipelines.backends import apply_backend

#: modules whose classes built-in graphs may name (Haystack 3 refuses any module not allow-listed);
#: a user graph naming others needs HAYSTACK_DESERIALIZATION_ALLOWLIST.
TRUSTED_MODULES = ("odqa", "haystack", "haystack_integrations")

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PipelineError(ValueError):
    """A pipeline graph could not be found, filled in or loaded; the message names the file."""


def builtin_dir() -> Path:
    return Path(str(resources.files("odqa.pipelines")))


def available_pipelines() -> dict[str, Path]:
    """Built-in graph names -> files."""
    return {p.stem: p for p in sorted(builtin_dir().glob("*.yaml"))}


def _outline(path: Path) -> dict[str, Any]:
    """The graph file parsed with every placeholder read as ``null`` (enough to read its shape).

    :raises PipelineError: the file is not valid YAML.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(fill(text, dict.fromkeys(placeholders(text), "null"), str(path)))
    except yaml.YAMLError as e:
        raise PipelineError(f"{path}: invalid YAML: {e}") from e
    return data if isinstance(data, dict) else {}


def describe(path: Path) -> str:
    """The graph's ``metadata.description`` (placeholders need no values to read it).

    :raises PipelineError: the file is not valid YAML.
    """
    return str((_outline(path).get("metadata") or {}).get("description", ""))


def graph_components(name_or_path: str | Path) -> set[str]:
    """The component names of a graph (a built-in name or a YAML path), without loading it.

    :raises PipelineError: an unknown graph or invalid YAML.
    """
    return set(_outline(find_pipeline(name_or_path)).get("components") or {})


def find_pipeline(name_or_path: str | Path) -> Path:
    """A built-in name (``qa``) or a path to a YAML file."""
    builtin = available_pipelines()
    if str(name_or_path) in builtin:
        return builtin[str(name_or_path)]
    path = Path(name_or_path)
    if path.is_file():
        return path
    raise PipelineError(
        f"no pipeline named {str(name_or_path)!r}: not a built-in ({', '.join(builtin)}) and no such file"
    )


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def fill(text: str, values: dict[str, str], source: str = "<pipeline>") -> str:
    """Replace ``${name}`` placeholders; an unknown one is an error naming file and line."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            line = text.count("\n", 0, m.start()) + 1
            raise PipelineError(
                f"{source}:{line}: unknown placeholder ${{{m.group(1)}}}; known: {sorted(values)}"
            )
        return values[m.group(1)]

    return _PLACEHOLDER.sub(sub, text)


def graph_roles(name_or_path: str | Path) -> set[str]:
    """The model roles a graph uses (its ``${role}`` placeholders), e.g. ``{"embedder", "ner", "reader"}``.

    :raises PipelineError: unknown graph name.
    """
    return placeholders(find_pipeline(name_or_path).read_text(encoding="utf-8")) & set(ROLES)


def pipeline_values(
    text: str, *, index_dir: str | Path, registry: ModelRegistry, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Values for the placeholders ``text`` uses; model roles are resolved and required."""
    values: dict[str, str] = {
        "index_dir": str(Path(index_dir)),
        "local_files_only": "true" if hub_offline() else "false",
    }
    for role in sorted(placeholders(text) & set(ROLES)):
        values[role] = registry.resolve(role).require().location
    values.update(extra or {})
    return values


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``["analyzer.boost=0", "fusion.top_k=10"]`` -> ``{"analyzer": {"boost": 0}, "fusion": {"top_k": 10}}``.

    Values are YAML (``0.5``, ``true``, ``[a, b]``, ``{k: v}``); later items win. An item
    ``@FILE`` reads a YAML mapping ``component: {parameter: value}`` (what ``odqa tune fusion``
    writes) as if each of its parameters had been given on its own.

    :raises PipelineError: an item that is not ``component.parameter=value``, or an ``@FILE`` that
        is missing or not such a mapping.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.startswith("@"):
            for comp, params in _override_file(Path(item[1:])).items():
                out.setdefault(comp, {}).update(params)
            continue
        key, sep, raw = item.partition("=")
        comp, dot, param = key.strip().partition(".")
        if not sep or not dot or not comp or not param:
            raise PipelineError(f"--set {item!r}: expected component.parameter=value (e.g. analyzer.boost=0)")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise PipelineError(f"--set {item!r}: value is not valid YAML: {e}") from e
        out.setdefault(comp, {})[param] = value
    return out


def _override_file(path: Path) -> dict[str, dict[str, Any]]:
    """The ``component: {parameter: value}`` mapping of an overrides YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PipelineError(f"--set @{path}: cannot read the overrides file: {e.strerror or e}") from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise PipelineError(f"--set @{path}: not a YAML file: {e}") from e
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and all(isinstance(p, str) for p in v)
        for k, v in data.items()
    ):
        raise PipelineError(f"--set @{path}: expected a mapping component: {{parameter: value}}")
    return {k: dict(v) for k, v in data.items()}


def _object_from_dict(value: Any) -> Any:
    """A serialised object (``{"type": ..., "init_parameters": ...}``) built as Haystack would."""
    if isinstance(value, dict) and set(value) <= {"type", "init_parameters"} and "type" in value:
        from haystack.core.serialization import import_class_by_name

        cls = import_class_by_name(value["type"])
        if hasattr(cls, "from_dict"):
            return cls.from_dict(value)
        return cls(**value.get("init_parameters", {}))
    return value


class UntrustedPipelineError(PipelineError):
    """A pipeline file names code or files outside what odqa trusts (``--trust-pipeline`` allows it)."""


def _serialised_objects(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``{"type": ..., "init_parameters": ...}`` inside ``value``, with where it sits."""
    if isinstance(value, dict):
        if isinstance(value.get("type"), str):
            yield where, value
        for key, inner in value.items():
            yield from _serialised_objects(inner, f"{where}.{key}" if key != "init_parameters" else where)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _serialised_objects(inner, f"{where}[{i}]")


def _graph_objects(
    data: dict[str, Any], overrides: dict[str, dict[str, Any]] | None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(component, where, object)`` for every serialised object of the graph and its overrides."""
    parts = [*data.get("components", {}).items()]
    parts += [(name, {"init_parameters": params}) for name, params in (overrides or {}).items()]
    for name, comp in parts:
        for where, obj in _serialised_objects(comp, name):
            yield name, where, obj


def check_trust(
    data: dict[str, Any],
    source: str,
    index_dir: str | Path,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Refuse a graph that names a class outside :data:`TRUSTED_MODULES` or points a store's
    ``path`` outside ``index_dir``: a pipeline file is code.

    :raises UntrustedPipelineError: naming the file, the component and ``--trust-pipeline``.
    """
    root = Path(index_dir).resolve()
    hint = "a pipeline file is code: run it only if you trust it, with --trust-pipeline"
    for name, where, obj in _graph_objects(data, overrides):
        type_name = str(obj["type"])
        if type_name.split(".")[0] not in TRUSTED_MODULES:
            raise UntrustedPipelineError(
                f"{source}: component {name!r} ({where}) names {type_name!r}, outside "
                f"{', '.join(TRUSTED_MODULES)}; {hint}"
            )
        params = obj.get("init_parameters") or {}
        for key in ("path", "index_path"):
            value = params.get(key)
            if isinstance(value, str) and not Path(value).resolve().is_relative_to(root):
                raise UntrustedPipelineError(
                    f"{source}: component {name!r} ({where}) keeps its store at {value!r}, outside "
                    f"the index directory {root}; {hint}"
                )


def pre_init_callbacks(
    overrides: dict[str, dict[str, Any]] | None = None, device: ComponentDevice | None = None
) -> DeserializationCallbacks:
    """Haystack deserialization callbacks that set ``overrides`` and ``device`` on the components.

    ``overrides[name]`` values replace that component's init parameters (a serialised object such as
    a document store is built first); ``device`` goes to every component whose ``__init__`` takes a
    ``device`` and that was not given one.
    """

    def pre_init(name: str, cls: type, init_params: dict[str, Any]) -> None:
        for key, value in (overrides or {}).get(name, {}).items():
            init_params[key] = _object_from_dict(value)
        top_k = init_params.get("top_k")
        if isinstance(top_k, int) and not isinstance(top_k, bool) and top_k < 1:
            raise PipelineError(f"component {name!r}: top_k must be >= 1, got {top_k}")
        takes_device = "device" in inspect.signature(cls.__init__).parameters  # type: ignore[misc]
        if device is not None and takes_device and init_params.get("device") is None:
            init_params["device"] = device

    return DeserializationCallbacks(component_pre_init=pre_init)


def load_pipeline(
    name_or_path: str | Path,
    *,
    index_dir: str | Path,
    registry: ModelRegistry,
    extra: dict[str, str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    device: str | ComponentDevice | None = None,
    backend: str = "embedded",
    es: EsConfig | None = None,
    dense: str = "faiss",
    trust: bool = False,
) -> Pipeline:
    """Load a graph by name or path, filled in for ``index_dir`` and the registry's models.

    Most callers open graphs through :class:`odqa.pipelines.env.PipelineEnv`, which holds these
    settings once.

    :param overrides: ``{component: {init_param: value}}`` applied as Haystack builds the components
        (a deserialization callback), e.g. ``{"fusion": {"mode": "weighted"}}``.
    :param device: ``cpu``, ``cuda``, ``cuda:1``... or a ``ComponentDevice``: placed on every
        component that takes a device; ``None``/``auto`` lets each component pick (a GPU when present).
    :param backend: ``embedded`` or ``elasticsearch`` (the BM25 side; see :mod:`odqa.pipelines.backends`).
    :param es: Elasticsearch connection settings (default: ``ELASTICSEARCH_*`` environment).
    :param dense: ``faiss`` or ``elasticsearch`` (kNN) for the dense side.
    :param trust: run a graph that names classes outside :data:`TRUSTED_MODULES` or keeps a store
        outside ``index_dir`` (``--trust-pipeline``); otherwise it is refused (:func:`check_trust`).
    :raises PipelineError: unknown name, unknown placeholder, YAML error, unknown component.
    :raises odqa.models.ModelUnavailableError: a model the graph needs is missing.
    """
    path = find_pipeline(name_or_path)
    text = path.read_text(encoding="utf-8")
    filled = fill(text, pipeline_values(text, index_dir=index_dir, registry=registry, extra=extra), str(path))
    try:
        data = yaml.safe_load(filled)
    except yaml.YAMLError as e:
        raise PipelineError(f"{path}: invalid YAML: {e}") from e
    if not isinstance(data, dict) or "components" not in data:
        raise PipelineError(f"{path}: a pipeline graph needs a 'components' mapping")
    try:
        data = apply_backend(data, backend, es, dense=dense)
    except ValueError as e:
        raise PipelineError(f"{path}: {e}") from e
    for comp in overrides or {}:
        if comp not in data["components"]:
            raise PipelineError(
                f"{path}: override names unknown component {comp!r}; have {sorted(data['components'])}"
            )
    allowed = list(TRUSTED_MODULES)
    if trust:
        allowed += sorted(
            {str(o["type"]).rpartition(".")[0] for _, _, o in _graph_objects(data, overrides)} - {""}
        )
    else:
        check_trust(data, str(path), index_dir, overrides)
    if isinstance(device, str):
        device = None if device == "auto" else ComponentDevice.from_str(device)
    try:
        return Pipeline.from_dict(
            data, callbacks=pre_init_callbacks(overrides, device), allowed_modules=allowed
        )
    except PipelineError:
        raise
    except Exception as e:  # Haystack raises several types; name the file
        raise PipelineError(f"{path}: cannot build pipeline: {e}") from e
