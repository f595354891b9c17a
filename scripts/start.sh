#!/usr/bin/env bash
# Starts agentwire locally: Redis (AOF on, unless REDIS_URL is set), one buffer,
# two edges (8080, 8081), and a demo agent; prints where to watch. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data="$root/.data"
mkdir -p "$data"

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

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping agentwire..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

if [ -z "${REDIS_URL:-}" ] && [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  redis_port=${AGENTWIRE_REDIS_PORT:-6390}
  mkdir -p "$data/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$data/redis" --save '' \
    --appendonly yes --appendfsync always --logfile "$data/redis.log" &
  pids+=($!)
  export REDIS_URL="redis://127.0.0.1:$redis_port"
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

export LOG_LEVEL=${LOG_LEVEL:-info}
logs="$data/logs"
mkdir -p "$logs"
BUFFER_ID=buffer-1 METRICS_PORT=9090 node services/buffer/dist/main.js >"$logs/buffer-1.log" 2>&1 &
pids+=($!)
for i in 0 1; do
  port=$((8080 + i))
  NODE_ID="edge-$i" PORT=$port DEMO_DIR="$root/packages/client/demo/dist" \
    node --max-semi-space-size=4 services/edge/dist/main.js >"$logs/edge-$i.log" 2>&1 &
  pids+=($!)
done
# Wait for readiness with Node itself (curl is not on every minimal Debian).
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
' 8080 8081 9090 || { echo "see the logs in $logs" >&2; exit 1; }
EDGE_URL=http://127.0.0.1:8080 DEMO_USER=demo node packages/publisher/dist/demo-agent.js >"$logs/demo-agent.log" 2>&1 &
pids+=($!)

token=$(node scripts/mint-token.mjs demo)
cat <<MSG

agentwire is running.
  Demo page:  http://127.0.0.1:8080/demo/#token=$token&urls=ws://127.0.0.1:8080/v1/ws,ws://127.0.0.1:8081/v1/ws
  Edges:      http://127.0.0.1:8080 and http://127.0.0.1:8081 (/readyz, /metrics)
  Buffer:     http://127.0.0.1:9090/metrics
  Redis:      $REDIS_URL
  Logs:       $logs
  Ingest:     curl -X POST http://127.0.0.1:8080/v1/events -H "authorization: Bearer \$INGEST_TOKEN" \\
                -H 'content-type: application/json' -d '{"id":"e1","userId":"demo","name":"agent_started"}'
              (INGEST_TOKEN and JWT_SECRET are in .data/secrets.env)
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}" || true
echo "A process exited; see $logs" >&2
