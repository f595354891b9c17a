import { envSecret, numberArg, parseCli, runCli, UsageError } from './src/cli-args.js';
import { fleetSummaryLines } from './src/console-summary.js';
import { parseEventKind } from './src/fleet-events.js';
import { runFleet } from './src/fleet-runner.js';
import { parseTransport } from './src/fleet-transport.js';
import { checkTarget, httpBaseOf, wsUrlOf } from './src/loopback-guard.js';

const USAGE = `Usage: INGEST_TOKEN=... JWT_SECRET=... npx tsx loadtest/ws-fleet.ts [options]

Connects N WebSocket clients (or SSE streams), publishes events at a fixed rate and
checks every one arrived on every connection of its user exactly once, in order
(appends: contiguous chunks, the text sent, and the server's text at the end).
Exit code 1 on any loss, duplicate, reordering, foreign event or failed connect.
  --target URLS          edge HTTP base(s), comma-separated; clients spread over them
                         round robin, events are posted to the first (default http://127.0.0.1:8080)
  --allow-remote         allow non-loopback targets
  --clients N            WebSocket clients, 1..100000 (default 1000)
  --users N              users, assigned round robin (default clients/2: two tabs each)
  --rate R               events/s, 1..100000 (default 200)
  --events KIND          critical (default), noncritical (plain events of 5-20 bytes of text),
                         appends (the same text as appends to one run per user)
  --duration S           publishing seconds, 1..120 (default 10)
  --grace S              wait for late events before counting them lost, 0..60 (default 10)
  --source-addresses N   spread sockets over 127.0.0.2..(N+1), 1..250 (default 8)
  --transport T          websocket (default) or sse: GET /v1/sse streams, acks by POST /v1/ack
  --no-reconnect         do not resume after unexpected closes
  --json                 print the full result as JSON

Above about 10,000 clients raise the open-file limit first (ulimit -n).`;

runCli(USAGE, async () => {
  const values = parseCli({
    target: { type: 'string' },
    'allow-remote': { type: 'boolean' },
    clients: { type: 'string' },
    users: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    grace: { type: 'string' },
    'source-addresses': { type: 'string' },
    'no-reconnect': { type: 'boolean' },
    transport: { type: 'string' },
    events: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const allowRemote = values['allow-remote'] === true;
  const targets = (typeof values.target === 'string' ? values.target : 'http://127.0.0.1:8080')
    .split(',')
    .map((item) => checkTarget(item.trim(), allowRemote));
  const first = targets[0];
  if (!first) throw new UsageError('--target is empty');
  const clients = numberArg(values, 'clients', 1000, { min: 1, max: 100_000 });
  const result = await runFleet({
    wsUrls: targets.map(wsUrlOf),
    ingestBaseUrl: httpBaseOf(first),
    ingestToken: envSecret('INGEST_TOKEN'),
    jwtSecret: envSecret('JWT_SECRET'),
    clients,
    users: numberArg(values, 'users', Math.ceil(clients / 2), { min: 1, max: clients }),
    ratePerSec: numberArg(values, 'rate', 200, { min: 1, max: 100_000 }),
    durationSec: numberArg(values, 'duration', 10, { min: 1, max: 120 }),
    graceSec: numberArg(values, 'grace', 10, { min: 0, max: 60 }),
    sourceAddresses: numberArg(values, 'source-addresses', 8, { min: 1, max: 250 }),
    reconnect: values['no-reconnect'] !== true,
    transport: parseTransport(values.transport),
    events: parseEventKind(values.events),
    log: (line) => console.error(line),
  });
  if (values.json) console.log(JSON.stringify(result, null, 2));
  else console.log(fleetSummaryLines(result).join('\n'));
  return result.passed ? 0 : 1;
});
