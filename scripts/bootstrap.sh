#!/usr/bin/env bash
# Create .venv (if needed) and install odqa with pinned dependencies.
# Idempotent: re-running after an install only re-checks a stamp file.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
stamp=.venv/.odqa-installed
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "[odqa] creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
# torch first: the CPU wheel (a plain 'torch' requirement would pull a multi-GB CUDA build).
echo "[odqa] installing torch==2.13.0 (CPU)"
.venv/bin/pip install -q torch==2.13.0 2> >(grep -v '^WARNING: Location' >&2)
echo "[odqa] installing odqa and pinned dependencies (a few minutes on a fresh machine)"
.venv/bin/pip install -q -c constraints.txt -e ".[dev,es]" 2> >(grep -v '^WARNING: Location' >&2)
# tcmalloc speeds up CPU training 30-40%; optional, best effort (needs root + Debian).
if ! ldconfig -p 2>/dev/null | grep -q libtcmalloc_minimal.so.4 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -q libtcmalloc-minimal4 >/dev/null 2>&1 || \
   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libtcmalloc-minimal4 >/dev/null 2>&1)) || \
   echo "[odqa] note: libtcmalloc-minimal4 not installed (optional)"
fi
echo "$want" > "$stamp"
