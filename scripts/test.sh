#!/usr/bin/env bash
# Install (once) and run the test suite offline. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false HAYSTACK_TELEMETRY_ENABLED=False
if [ -z "${ODQA_DATA_DIR:-}" ] && [ -d ../shared/data ]; then export ODQA_DATA_DIR=../shared/data; fi
.venv/bin/ruff check odqa tests benchmarks
.venv/bin/python -m pytest "$@"
