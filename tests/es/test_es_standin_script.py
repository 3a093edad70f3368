"""scripts/es-standin.sh starts noida-db's Elasticsearch listener on loopback and stops it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from odqa.components.stores.es_config import EsConfig, is_standin

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "es-standin.sh"


def _noida_installed() -> bool:
    found = (
        subprocess.run([sys.executable, "-c", "import noida_db"], capture_output=True, check=False).returncode
        == 0
    )
    return found or shutil.which("noida-db") is not None


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _noida_installed(), reason="noida-db is not installed (a dev dependency)"),
]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_start_prints_the_url_and_stop_stops(tmp_path: Path) -> None:
    env = {**os.environ, "ES_STANDIN_DIR": str(tmp_path / "state")}
    env.pop("ES_STANDIN_PORT", None)
    started = run("start", env=env)
    try:
        assert started.returncode == 0, started.stderr
        export = started.stdout.strip().splitlines()[-1]
        assert export.startswith("export ELASTICSEARCH_URL=http://127.0.0.1:")
        url = export.split("=", 1)[1]
        assert url in started.stderr  # the message names the URL too
        info = EsConfig(url=url).check()
        assert is_standin(info) and info["version"]["number"].startswith("8.")
        again = run("start", env=env)  # idempotent: same server
        assert again.returncode == 0 and again.stdout.strip().endswith(url)
        assert run("status", env=env).returncode == 0
    finally:
        stopped = run("stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert run("status", env=env).returncode == 1
