"""The ``odqa`` command line: parses, calls, prints (one module per command group; see
:mod:`odqa.cli.app`). ``python -m odqa.cli`` runs it too."""

from odqa.cli.app import app, main

__all__ = ["app", "main"]
