#!/usr/bin/env bash
# The whole test suite: build, typecheck, lint, format, unit tests, integration
# tests on a single Redis, then again on a 3-master Redis Cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/ensure-system-packages.sh redis sentinel chromium
bash scripts/ensure-kubectl.sh
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error

echo "== build and typecheck"
npx turbo run build typecheck --output-logs=errors-only
npx tsc -p deploy/tsconfig.json
# The root's own TypeScript: configs and scripts/test.
npx tsc -p tsconfig.json
echo "== lint"
npx turbo run lint --output-logs=errors-only
# The root's own files (configs, scripts, deploy/) belong to no workspace.
npx eslint . --max-warnings 0 --ignore-pattern 'packages/**' --ignore-pattern 'services/**' --ignore-pattern 'loadtest/**'
echo "== format"
npx prettier --check . --log-level warn
echo "== unit tests"
npx vitest run --project unit
echo "== integration tests (single Redis)"
AW_TEST_TOPOLOGY=single npx vitest run --project integration
echo "== integration tests (3-master Redis Cluster)"
AW_TEST_TOPOLOGY=cluster npx vitest run --project integration
