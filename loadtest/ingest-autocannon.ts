import { envSecret, numberArg, parseCli, runCli } from './src/cli-args.js';
import { ingestSummaryLines } from './src/console-summary.js';
import { runIngestBenchmark } from './src/ingest-benchmark.js';
import { checkTarget, httpBaseOf } from './src/loopback-guard.js';

const USAGE = `Usage: INGEST_TOKEN=... npx tsx loadtest/ingest-autocannon.ts [options]

Loads POST /v1/events of one edge with autocannon; every event id is fresh.
  --target URL           edge HTTP base (default http://127.0.0.1:8080)
  --allow-remote         allow a non-loopback target
  --connections N        concurrent connections, 1..1000 (default 50)
  --duration S           seconds, 1..120 (default 10)
  --batch N              events per request: 1 posts an object, N > 1 an array (default 1, max 1000)
  --critical-share F     fraction of critical events, 0..1 (default 0.2)
  --users N              distinct users, 1..1000000 (default 1000)
  --rate R               fixed requests/s over all connections (default: as fast as possible)
  --max-requests N       stop after N requests (default 10000000)
  --pipelining N         requests in flight per connection, 1..16 (default 1)
  --json                 print the full result as JSON`;

runCli(USAGE, async () => {
  const values = parseCli({
    target: { type: 'string' },
    'allow-remote': { type: 'boolean' },
    connections: { type: 'string' },
    duration: { type: 'string' },
    batch: { type: 'string' },
    'critical-share': { type: 'string' },
    users: { type: 'string' },
    rate: { type: 'string' },
    'max-requests': { type: 'string' },
    pipelining: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const target = checkTarget(
    typeof values.target === 'string' ? values.target : 'http://127.0.0.1:8080',
    values['allow-remote'] === true,
  );
  const result = await runIngestBenchmark({
    baseUrl: httpBaseOf(target),
    token: envSecret('INGEST_TOKEN'),
    connections: numberArg(values, 'connections', 50, { min: 1, max: 1000 }),
    durationSec: numberArg(values, 'duration', 10, { min: 1, max: 120 }),
    batchSize: numberArg(values, 'batch', 1, { min: 1, max: 1000 }),
    criticalShare: numberArg(values, 'critical-share', 0.2, { min: 0, max: 1, integer: false }),
    users: numberArg(values, 'users', 1000, { min: 1, max: 1_000_000 }),
    ...(values.rate === undefined
      ? {}
      : { rate: numberArg(values, 'rate', 0, { min: 1, max: 1_000_000 }) }),
    maxRequests: numberArg(values, 'max-requests', 10_000_000, { min: 1, max: 10_000_000 }),
    pipelining: numberArg(values, 'pipelining', 1, { min: 1, max: 16 }),
  });
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else console.log(ingestSummaryLines(result).join('\n'));
  const accepted = result.statusCodes['202'] ?? 0;
  return accepted === result.requests.total && result.errors === 0 ? 0 : 1;
});
