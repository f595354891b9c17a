#!/usr/bin/env bash
# Starts agentwire locally: Redis (AOF on, unless REDIS_URL is set), one buffer,
# two edges (8080, 8081), and a demo agent; prints where to watch.
#
# Ctrl-C, SIGTERM and SIGHUP (the terminal going away) stop everything it
# started, in order: the demo agent, the edges and the buffer first (SIGTERM;
# each exits within its own deadline), Redis only once they are gone, so they
# can still release leases and routes. Whatever outlives its bound is
# SIGKILLed: no process is left behind. The children run in sessions of their
# own, so a Ctrl-C or a hang-up reaches this script alone and never stops
# Redis under the services' feet.
#
# Overrides (e.g. to run a second copy next to the first):
#   AGENTWIRE_DATA_DIR     secrets, Redis data and logs      (default: .data)
#   AGENTWIRE_REDIS_PORT   port of the local Redis            (default: 6390)
#   AGENTWIRE_EDGE_PORTS   the edges' ports, comma separated  (default: 8080,8081)
#   AGENTWIRE_BUFFER_PORT  the buffer's port                  (default: 9090)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${AGENTWIRE_DATA_DIR:-$root/.data}
mkdir -p "$data"
IFS=', ' read -r -a edge_ports <<<"${AGENTWIRE_EDGE_PORTS:-8080,8081}"
buffer_port=${AGENTWIRE_BUFFER_PORT:-9090}
# Local stops are quick: a 1 s reconnect spread and 5 s deadlines (each can be overridden).
export DRAIN_WINDOW_MS=${DRAIN_WINDOW_MS:-1000}
export DRAIN_GRACE_MS=${DRAIN_GRACE_MS:-5000}
export STOP_GRACE_MS=${STOP_GRACE_MS:-5000}
# How long the stop waits for the services, then for Redis, before SIGKILL (seconds).
services_wait_s=$(((${DRAIN_GRACE_MS} > ${STOP_GRACE_MS} ? ${DRAIN_GRACE_MS} : ${STOP_GRACE_MS}) / 1000 + 2))
redis_wait_s=10

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "agentwire needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
if [ -z "${REDIS_URL:-}" ] && [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  bash scripts/ensure-system-packages.sh redis
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "Building..."
TURBO_TELEMETRY_DISABLED=1 npx turbo run build --output-logs=errors-only >/dev/null

# Secrets are generated once and kept in .data so tokens stay valid across restarts.
if [ ! -f "$data/secrets.env" ]; then
  {
    echo "JWT_SECRET=$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')"
    echo "INGEST_TOKEN=$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
  } >"$data/secrets.env"
fi
set -a
# shellcheck disable=SC1091
. "$data/secrets.env"
set +a

# setsid: a session of its own, out of reach of the terminal's SIGINT and SIGHUP.
# (From a background job setsid does not fork, so $! is the process itself.)
detach=$(command -v setsid || true)
service_pids=()
redis_pid=
readiness_pid=
stopping=0

# Sends SIGTERM to the given processes, waits until they are gone or
# `bound` seconds passed, then SIGKILLs the rest and reaps them.
stop_processes() {
  local bound=$1 pid alive
  shift
  [ "$#" -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  local deadline=$((SECONDS + bound))
  while [ "$SECONDS" -lt "$deadline" ]; do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "pid $pid still running after ${bound}s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  wait "$@" 2>/dev/null
}

stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  # The terminal may be gone: nothing below may fail or be killed by a write.
  set +e
  trap '' PIPE
  trap 'echo "Already stopping (at most $((services_wait_s + redis_wait_s)) s)." >&2' INT TERM HUP
  echo
  echo "Stopping agentwire..."
  [ -n "$readiness_pid" ] && kill -TERM "$readiness_pid" 2>/dev/null
  stop_processes "$services_wait_s" "${service_pids[@]}"
  [ -n "$redis_pid" ] && stop_processes "$redis_wait_s" "$redis_pid"
  echo "Stopped."
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP

if [ -z "${REDIS_URL:-}" ] && [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  redis_port=${AGENTWIRE_REDIS_PORT:-6390}
  mkdir -p "$data/redis"
  $detach redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$data/redis" --save '' \
    --appendonly yes --appendfsync always --logfile "$data/redis.log" &
  redis_pid=$!
  export REDIS_URL="redis://127.0.0.1:$redis_port"
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

export LOG_LEVEL=${LOG_LEVEL:-info}
logs="$data/logs"
mkdir -p "$logs"
BUFFER_ID=buffer-1 PORT=$buffer_port $detach node services/buffer/dist/main.js \
  >"$logs/buffer-1.log" 2>&1 &
service_pids+=($!)
ws_urls=()
for i in "${!edge_ports[@]}"; do
  port=${edge_ports[$i]}
  NODE_ID="edge-$i" PORT=$port DEMO_DIR="$root/packages/client/demo/dist" \
    $detach node --max-semi-space-size=4 services/edge/dist/main.js >"$logs/edge-$i.log" 2>&1 &
  service_pids+=($!)
  ws_urls+=("ws://127.0.0.1:$port/v1/ws")
done
edge_url="http://127.0.0.1:${edge_ports[0]}"
# Wait for readiness with Node itself (curl is not on every minimal Debian), in
# the background so that a signal meanwhile is handled at once.
node -e '
  const ports = process.argv.slice(1);
  const deadline = Date.now() + 15000;
  const ready = (port) => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
  (async () => {
    for (const port of ports) {
      while (!(await ready(port))) {
        if (Date.now() > deadline) { console.error(`port ${port} did not become ready`); process.exit(1); }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
' "${edge_ports[@]}" "$buffer_port" &
readiness_pid=$!
wait "$readiness_pid" || { echo "see the logs in $logs" >&2; exit 1; }
readiness_pid=
EDGE_URL=$edge_url DEMO_USER=demo $detach node packages/publisher/dist/demo-agent.js \
  >"$logs/demo-agent.log" 2>&1 &
service_pids+=($!)

token=$(node scripts/mint-token.mjs demo)
cat <<MSG

agentwire is running.
  Demo page:  $edge_url/demo/#token=$token&urls=$(IFS=,; echo "${ws_urls[*]}")
  Edges:      ${edge_ports[*]/#/http://127.0.0.1:} (/readyz, /metrics)
  Buffer:     http://127.0.0.1:$buffer_port/metrics
  Redis:      $REDIS_URL
  Logs:       $logs
  Ingest:     curl -X POST $edge_url/v1/events -H "authorization: Bearer \$INGEST_TOKEN" \\
                -H 'content-type: application/json' -d '{"id":"e1","userId":"demo","name":"agent_started"}'
              (INGEST_TOKEN and JWT_SECRET are in $data/secrets.env)
Press Ctrl-C to stop.
MSG
wait -n "${service_pids[@]}" ${redis_pid:+"$redis_pid"} || true
echo "A process exited; see $logs" >&2
exit 1
