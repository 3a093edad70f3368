"""shared/DESIGN.md's rooms hold in the code: the import-linter contracts in pyproject.toml are
kept (the CLI on top, corpus/models/utils at the bottom, metrics free of models) and no module
imports another that imports it back, directly or through others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_no_import_cycles() -> None:
    import grimp
    import networkx as nx

    graph = grimp.build_graph("odqa")
    imports = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            imports.add_edge(module, imported)
    cycles = [" -> ".join(c) for c in nx.simple_cycles(imports) if len(c) > 1]
    assert not cycles, cycles
    assert imports.number_of_nodes() > 60  # the graph really covers the package
