"""``odqa models``: how each model role resolves; ``export`` and ``import`` move trained models
between machines as verified archives."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from odqa.cli.common import EXIT_MODEL, console, errors, fail, settings

if TYPE_CHECKING:
    from odqa.models import ModelRegistry

models_app = typer.Typer(help="Model roles: show them, export a trained model, import one.")


def _registry() -> ModelRegistry:
    from odqa.models import registry_from_settings

    return registry_from_settings(settings())


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context) -> None:
    """Show how each model role resolves and whether it is available here."""
    if ctx.invoked_subcommand is not None:
        return
    from odqa.models import PROVIDERS, SUGGESTED_HUB_IDS

    table = Table("role", "resolves to", "kind", "available", "how to provide", "online alternative")
    for ref in _registry().all():
        ok = "[green]yes[/]" if ref.available else f"[red]no[/] ({ref.detail})"
        table.add_row(
            ref.role, ref.location, ref.kind, ok, PROVIDERS.get(ref.role, ""), SUGGESTED_HUB_IDS[ref.role]
        )
    console.print(table)
    console.print(
        f"models dir: {settings().resolved_models_dir}  (override a role: ODQA_<ROLE>_MODEL=path-or-hub-id)"
    )


@models_app.command("export")
def models_export(
    role: Annotated[str, typer.Argument(help="reader | reranker | ner | embedder (a local model).")],
    file: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz).")],
) -> None:
    """Write a trained model as one verified archive (model card, manifest, checksums)."""
    from odqa.model_archive import export_model

    with errors():
        ref = _registry().resolve(role)
    if ref.kind != "local" or not ref.available:
        fail(
            f"{role} resolves to {ref.location} ({ref.detail}): only a local model directory can be exported",
            EXIT_MODEL,
        )
    with errors():
        info = export_model(ref.location, file, role=role)
    console.print(
        f"exported {role} ({ref.location}) -> {file}: {info.files} files, {info.bytes / 1e6:.1f} MB"
    )


@models_app.command("import")
def models_import(
    file: Annotated[Path, typer.Argument(help="An archive written by `odqa models export`.")],
    role: Annotated[str | None, typer.Option(help="Refuse an archive of another role.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Install as <models dir>/NAME (default: the archive's role).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an installed model of that name.")] = False,
) -> None:
    """Verify an archive (checksums, paths, role) and install it under the models directory."""
    from odqa.model_archive import import_model

    with errors():
        target = import_model(file, settings().resolved_models_dir, role=role, name=name, force=force)
    console.print(f"imported {file} -> {target}")
