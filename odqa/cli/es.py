"""``odqa es``: look at the Elasticsearch backend.

    odqa es check            # server reachable? which index, analyzer, k1/b, how many passages?
    odqa es check --json

Connection settings come from odqa's settings (``es_*`` keys of the config file), else the
``ELASTICSEARCH_*`` environment variables (:class:`~odqa.components.stores.es_config.EsConfig`).
Exit codes: 0 fine, 1 server unreachable or credentials refused (reported within 5 s), 4 no such
index.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from odqa.cli.common import EXIT_ERROR, EXIT_INDEX, console, err, settings

es_app = typer.Typer(no_args_is_help=True, help="Inspect the Elasticsearch backend.")

EXIT_UNAVAILABLE, EXIT_NO_INDEX = EXIT_ERROR, EXIT_INDEX


@es_app.command()
def check(
    index: Annotated[
        str | None, typer.Option(help="Index (alias) name; default ELASTICSEARCH_INDEX or odqa.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reach the server and describe the index odqa would search."""
    from dataclasses import replace

    from odqa.components.stores.es_config import EsUnavailableError, is_standin
    from odqa.components.stores.es_document_store import EsIndexMissingError, OdqaElasticsearchDocumentStore
    from odqa.pipelines.backends import es_config_from_settings

    cfg = es_config_from_settings(settings())
    if index:
        cfg = replace(cfg, index=index)
    report: dict[str, Any] = {"url": cfg.safe_url, "index": cfg.index}
    try:
        info = cfg.check()
        report["server"] = {
            "name": info.get("name"),
            "version": (info.get("version") or {}).get("number"),
            "standin": is_standin(info),
        }
        store = OdqaElasticsearchDocumentStore(url=cfg.url, index=cfg.index, create_index=False)
        report["index_info"] = store.index_info()
    except EsUnavailableError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except EsIndexMissingError as e:
        report["index_info"] = None
        _print(report, as_json)
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        raise typer.Exit(EXIT_NO_INDEX) from None
    _print(report, as_json)


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps(report))
        return
    server = report.get("server") or {}
    flag = " [yellow](noida-db stand-in, not Elasticsearch)[/]" if server.get("standin") else ""
    console.print(f"server  {report['url']}: {server.get('name')} {server.get('version')}{flag}")
    info = report.get("index_info")
    if info:
        console.print(
            f"index   {report['index']} -> {info['physical_index']}: {info['documents']} passages, "
            f"analyzer {info['analyzer']}, BM25 k1={info['k1']} b={info['b']}, {info['shards']} shard(s)"
        )
