#!/usr/bin/env bash
# The main job on a fresh machine: install (once), train the models the default graph needs if they
# are missing (once: the quick reader, a 12-minute budget), index SQuAD dev part A, answer questions.
# Pass your own questions as arguments:  bash scripts/demo.sh "Who founded Warsaw?"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} TOKENIZERS_PARALLELISM=false HAYSTACK_TELEMETRY_ENABLED=False
if [ -z "${ODQA_DATA_DIR:-}" ] && [ -d ../shared/data ]; then export ODQA_DATA_DIR=../shared/data; fi
args=()
for q in "$@"; do args+=(--question "$q"); done
exec .venv/bin/odqa demo "${args[@]}"
