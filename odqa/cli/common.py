"""What every ``odqa`` command module shares: the settings (the context object the main callback
fills), the consoles, the exit codes, one error-to-exit-code mapping, the pipeline environment and
the options several commands take. Heavy imports happen inside functions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from odqa.config import Settings

if TYPE_CHECKING:
    from odqa.pipelines.env import PipelineEnv
    from odqa.pipelines.runner import QueryRunner

console = Console()
err = Console(stderr=True)

#: exit codes: 0 fine, 1 bad input or a failing service, 2 usage (Typer), 3 a model is missing,
#: 4 no index (or an unusable one)
EXIT_ERROR, EXIT_USAGE, EXIT_MODEL, EXIT_INDEX = 1, 2, 3, 4


class CliState:
    """The context object: settings built once by the main callback (``--config``, ``--index-dir``...)."""

    settings: Settings | None = None

    def require(self) -> Settings:
        if self.settings is None:  # a command run without the main callback (not through `odqa`)
            from odqa.config import load_settings

            self.settings = load_settings()
        return self.settings


state = CliState()


def settings() -> Settings:
    """The settings of this invocation."""
    return state.require()


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _es_error(e: BaseException | None) -> BaseException | None:
    """The Elasticsearch error behind ``e`` (Haystack wraps component errors), if any."""
    from odqa.components.stores.es_config import EsError

    while e is not None:
        if isinstance(e, EsError):
            return e
        e = e.__cause__
    return None


def unwrap(e: BaseException) -> tuple[BaseException, str | None]:
    """The error a Haystack ``PipelineRuntimeError`` wraps (its ``__cause__``) and the component
    that raised it; any other error as it is, with ``None``."""
    from haystack.core.errors import PipelineRuntimeError

    component = None
    while isinstance(e, PipelineRuntimeError) and e.__cause__ is not None:
        component = component or e.component_name
        e = e.__cause__
    return e, component


def exit_code(e: BaseException) -> int | None:
    """The exit code for an expected failure (bad input, missing model or index, a service down,
    no room on the disk), also when a graph's component raised it; ``None`` for anything else,
    which is a bug and keeps its traceback."""
    from odqa.corpus.types import IngestError
    from odqa.model_archive import ModelArchiveError
    from odqa.models import ModelUnavailableError
    from odqa.pipelines.env import IndexMismatchError, IndexNotFoundError
    from odqa.utils.fs import LockedError

    inner, component = unwrap(e)
    if isinstance(inner, ModelUnavailableError):
        return EXIT_MODEL
    if isinstance(inner, (IndexNotFoundError, IndexMismatchError)):
        return EXIT_INDEX
    if component is not None:  # raised inside a component: only what is not a bug there
        known = isinstance(inner, (IngestError, LockedError)) or disk_full(inner)
        return EXIT_ERROR if known or _es_error(inner) is not None else None
    expected = (IngestError, ModelArchiveError, LockedError, OSError, ValueError)
    if isinstance(inner, expected) or _es_error(inner) is not None:
        return EXIT_ERROR
    return None


def disk_full(e: BaseException) -> bool:
    """Whether ``e`` is a write that found no room: ENOSPC, EFBIG (a file-size cap) or EDQUOT."""
    import errno

    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def message(e: BaseException) -> str:
    from odqa.corpus.types import IngestError

    e, component = unwrap(e)
    where = f" (in {component})" if component else ""
    if isinstance(e, IngestError):
        return f"{e.problem} (--strict)"
    if isinstance(e, OSError) and disk_full(e):
        target = f" writing {e.filename}" if e.filename else ""
        return f"no room on the disk{target}{where}: {e.strerror or e}"
    es = _es_error(e)
    return str(es if es is not None else e) + where


@contextmanager
def errors(code: int = EXIT_ERROR) -> Iterator[None]:
    """Turn expected failures into ``error: ...`` and an exit code (see :func:`exit_code`);
    ``code`` replaces :data:`EXIT_ERROR` (e.g. :data:`EXIT_INDEX` while building an index)."""
    try:
        yield
    except typer.Exit:
        raise
    except Exception as e:
        mapped = exit_code(e)
        if mapped is None:
            raise
        fail(message(e), code if mapped == EXIT_ERROR else mapped)


def pipeline_env(**changes: Any) -> PipelineEnv:
    """The pipeline environment of this invocation (``changes``: e.g. another ``index_dir``)."""
    from odqa.pipelines.env import PipelineEnv

    return PipelineEnv.from_settings(settings(), **changes)


#: ``--set`` option shared by the commands that load a query graph
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a component parameter of the graph: component.param=value (YAML value; repeat).",
    ),
]


def quiet_libraries() -> None:
    """odqa's own messages only: no per-model loading bars, load reports or library warnings."""
    import logging
    import warnings

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    # e.g. Haystack's ranker passing CrossEncoder.rank a keyword sentence-transformers deprecated
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[odqa] %(message)s"))
    logger = logging.getLogger("odqa")
    if not logger.handlers:
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def with_sets(
    overrides: dict[str, dict[str, Any]] | None, sets: list[str] | None
) -> dict[str, dict[str, Any]]:
    """A copy of ``overrides`` with the ``--set`` items on top (they win parameter by parameter).

    :raises PipelineError: a malformed ``--set`` item.
    """
    from odqa.pipelines.loader import parse_overrides

    merged = {c: dict(p) for c, p in (overrides or {}).items()}
    for comp, params in parse_overrides(sets or []).items():
        merged.setdefault(comp, {}).update(params)
    return merged


def open_graph(
    graph: str,
    sets: list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    env: PipelineEnv | None = None,
) -> QueryRunner:
    """The warmed-up runner of a query graph in ``env`` (default: this invocation's), ``--set``
    items on top of ``overrides``; failures become ``error: ...`` with their exit code."""
    from odqa.pipelines.env import open_runner

    quiet_libraries()
    with errors():
        return open_runner(env or pipeline_env(), graph, with_sets(overrides, sets))
    raise AssertionError("unreachable")  # pragma: no cover - errors() exits
