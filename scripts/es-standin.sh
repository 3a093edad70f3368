#!/usr/bin/env bash
# Start/stop a local Elasticsearch stand-in for tests: noida-db's Elasticsearch listener on 127.0.0.1.
#
#   eval "$(bash scripts/es-standin.sh start)"   # exports ELASTICSEARCH_URL; messages go to stderr
#   bash scripts/es-standin.sh status
#   bash scripts/es-standin.sh stop
#
# Installs nothing: noida-db (a dev dependency) must already be installed, in .venv or on PATH.
# Port: $ES_STANDIN_PORT if set, else 9200 when free, else any free port. Each start begins with
# empty data. State (pid, port, log, data) lives in $ES_STANDIN_DIR (default: a directory in /tmp
# named after this checkout), so two checkouts never share a server.
# A real Elasticsearch needs none of this: export ELASTICSEARCH_URL=... and run the tests.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY="$(command -v python3)"
STATE="${ES_STANDIN_DIR:-${TMPDIR:-/tmp}/odqa-es-standin-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)}"
TIMEOUT="${ES_STANDIN_TIMEOUT:-30}"

say() { echo "[es-standin] $*" >&2; }

find_binary() {
  # the platform binary inside the noida_db package (run directly, so our pid is the server's)
  local bin
  bin="$("$PY" -c 'from importlib.resources import files; print(files("noida_db").joinpath("noida-db"))' \
    2>/dev/null || true)"
  if [ -n "$bin" ] && [ -f "$bin" ]; then
    [ -x "$bin" ] || chmod +x "$bin"
    echo "$bin"
  elif command -v noida-db >/dev/null 2>&1; then
    command -v noida-db
  else
    say "noida-db is not installed (it is a dev dependency: pip install -c constraints.txt noida-db==0.2.3)"
    exit 2
  fi
}

free_port() {
  "$PY" - "$1" <<'EOF'
import socket, sys
want = int(sys.argv[1])
def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
if want and free(want):
    print(want)
else:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
EOF
}

answers() {  # $1 = url; true when it answers like Elasticsearch
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/", timeout=2) as r:
    assert r.headers.get("X-Elastic-Product") == "Elasticsearch"
    assert "version" in json.load(r)
EOF
}

running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

url() { echo "http://127.0.0.1:$(cat "$STATE/port")"; }

start() {
  if running && answers "$(url)"; then
    say "already running at $(url) (pid $(cat "$STATE/pid"))"
    echo "export ELASTICSEARCH_URL=$(url)"
    return 0
  fi
  stop_server quiet
  local bin port
  bin="$(find_binary)"
  port="$(free_port "${ES_STANDIN_PORT:-9200}")"
  if [ -n "${ES_STANDIN_PORT:-}" ] && [ "$port" != "$ES_STANDIN_PORT" ]; then
    say "port $ES_STANDIN_PORT is taken"
    exit 1
  fi
  mkdir -p "$STATE"
  rm -rf "$STATE/data"
  echo "$port" > "$STATE/port"
  nohup "$bin" start --only elasticsearch --host 127.0.0.1 --elasticsearch-port "$port" \
    --data-dir "$STATE/data" > "$STATE/log" 2>&1 < /dev/null &
  echo $! > "$STATE/pid"
  local waited=0
  until answers "$(url)"; do
    if ! running; then
      say "noida-db exited; its log ($STATE/log):"
      tail -n 20 "$STATE/log" >&2 || true
      exit 1
    fi
    if [ "$waited" -ge $((TIMEOUT * 4)) ]; then
      say "no answer from $(url) after ${TIMEOUT}s; log: $STATE/log"
      stop_server quiet
      exit 1
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
  say "noida-db Elasticsearch listener ready at $(url) (pid $(cat "$STATE/pid"), log $STATE/log)"
  echo "export ELASTICSEARCH_URL=$(url)"
}

stop_server() {
  if [ -f "$STATE/pid" ]; then
    local pid
    pid="$(cat "$STATE/pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
      [ "${1:-}" = quiet ] || say "stopped (pid $pid)"
    fi
    rm -f "$STATE/pid"
  elif [ "${1:-}" != quiet ]; then
    say "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop_server ;;
  status)
    if running && answers "$(url)"; then say "running at $(url) (pid $(cat "$STATE/pid"))"; echo "$(url)";
    else say "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
