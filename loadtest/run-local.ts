import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  envSecret,
  numberArg,
  numberListArg,
  parseCli,
  runCli,
  UsageError,
} from './src/cli-args.js';
import { parseTransport } from './src/fleet-transport.js';
import { guardProcess } from './src/interrupt-guard.js';
import { startLocalStack, type LocalStack } from './src/local-stack.js';
import { checkTarget, httpBaseOf, wsUrlOf } from './src/loopback-guard.js';
import { waitForQuietMachine } from './src/quiet-machine.js';
import { writeReport } from './src/report-writer.js';
import { runScenario, type ScenarioSystem } from './src/scenario-runner.js';

const USAGE = `Usage: npx tsx loadtest/run-local.ts [options]

Starts a private stack on loopback (redis-server on a free port, buffers and
edges from services/*/dist), runs the ingest benchmark at each batch size and
the WebSocket fleet at each rate, samples CPU and RSS of every process every
500 ms, and writes loadtest/reports/<timestamp>/ (report.json, report.md, SVG plots).
  --edges N              edges to start, 1..4 (default 2)
  --buffers N            buffers to start, 1..4 (default 1)
  --batches LIST         ingest batch sizes (default 1,50; none skips the ingest phases)
  --ingest-duration S    seconds per ingest phase, 1..120 (default 10)
  --ingest-connections N autocannon connections, 1..1000 (default 50)
  --critical-share F     critical share of ingest events (default 0.2)
  --ingest-users N       users of ingest events (default 1000)
  --fleet-clients N      WebSocket clients, 1..30000 (default 1000)
  --fleet-users N        fleet users (default clients/2)
  --rates LIST           critical events/s of the fleet phases (default 200,1000; none skips them)
  --fleet-duration S     publishing seconds per fleet phase, 1..120 (default 20)
  --grace S              late-delivery grace, 0..60 (default 10)
  --transport T          fleet clients over websocket (default) or sse
  --aof always|everysec  run the private Redis with an append-only file (default: no persistence)
  --replicas N           give the private Redis N replicas and 3 Sentinels (services connect
                         through REDIS_SENTINELS), 0..2 (default 0: a lone Redis)
  --min-replicas N       MIN_REPLICAS of the services, 0..replicas (default 0)
  --wait-quiet S         first wait up to S seconds (max 1800) until the machine's CPU stays
                         below 20% for 10 s: other work on a shared host skews every number
  --out DIR              report root (default loadtest/reports)

Existing deployment instead of a private stack (INGEST_TOKEN, JWT_SECRET from the env):
  --target URLS          edge HTTP bases, comma-separated
  --buffer-metrics URLS  buffer HTTP bases, for the backlog drain wait and plot
  --pid NAME=PID,...     processes to sample (e.g. edge-0=1234,buffer-0=1240)
  --allow-remote         allow non-loopback targets`;

// Every phase is capped at 120 s; this bounds the whole run even if something hangs.
const OVERALL_CAP_MS = 30 * 60 * 1000;

runCli(USAGE, async () => {
  const values = parseCli({
    edges: { type: 'string' },
    buffers: { type: 'string' },
    batches: { type: 'string' },
    'ingest-duration': { type: 'string' },
    'ingest-connections': { type: 'string' },
    'critical-share': { type: 'string' },
    'ingest-users': { type: 'string' },
    'fleet-clients': { type: 'string' },
    'fleet-users': { type: 'string' },
    transport: { type: 'string' },
    rates: { type: 'string' },
    'fleet-duration': { type: 'string' },
    grace: { type: 'string' },
    out: { type: 'string' },
    aof: { type: 'string' },
    replicas: { type: 'string' },
    'min-replicas': { type: 'string' },
    'wait-quiet': { type: 'string' },
    target: { type: 'string' },
    'buffer-metrics': { type: 'string' },
    pid: { type: 'string' },
    'allow-remote': { type: 'boolean' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const fleetClients = numberArg(values, 'fleet-clients', 1000, { min: 1, max: 30_000 });
  const scenario = {
    mode: typeof values.target === 'string' ? ('target' as const) : ('local' as const),
    command: `npx tsx loadtest/run-local.ts ${process.argv.slice(2).join(' ')}`.trim(),
    ingest: {
      batches: numberListArg(values, 'batches', [1, 50], { min: 1, max: 1000 }),
      connections: numberArg(values, 'ingest-connections', 50, { min: 1, max: 1000 }),
      durationSec: numberArg(values, 'ingest-duration', 10, { min: 1, max: 120 }),
      criticalShare: numberArg(values, 'critical-share', 0.2, { min: 0, max: 1, integer: false }),
      users: numberArg(values, 'ingest-users', 1000, { min: 1, max: 1_000_000 }),
    },
    fleet: {
      clients: fleetClients,
      users: numberArg(values, 'fleet-users', Math.ceil(fleetClients / 2), {
        min: 1,
        max: fleetClients,
      }),
      rates: numberListArg(values, 'rates', [200, 1000], { min: 1, max: 100_000 }),
      durationSec: numberArg(values, 'fleet-duration', 20, { min: 1, max: 120 }),
      graceSec: numberArg(values, 'grace', 10, { min: 0, max: 60 }),
      transport: parseTransport(values.transport),
    },
    log: (line: string) => console.error(line),
  };
  const here = dirname(fileURLToPath(import.meta.url));
  const outRoot = typeof values.out === 'string' ? values.out : join(here, 'reports');

  let local: LocalStack | undefined;
  const stopLocal = async (): Promise<void> => {
    const running = local;
    local = undefined;
    if (running) await running.stack.stop();
  };
  const unguard = guardProcess(stopLocal, OVERALL_CAP_MS);

  try {
    let system: ScenarioSystem;
    if (scenario.mode === 'target') {
      system = targetSystem(values);
    } else {
      const edges = numberArg(values, 'edges', 2, { min: 1, max: 4 });
      const buffers = numberArg(values, 'buffers', 1, { min: 1, max: 4 });
      console.error(`starting Redis, ${buffers} buffer(s), ${edges} edge(s)...`);
      const aof = aofArg(values.aof);
      const replicas = numberArg(values, 'replicas', 0, { min: 0, max: 2 });
      const minReplicas = numberArg(values, 'min-replicas', 0, { min: 0, max: replicas });
      local = await startLocalStack({
        edges,
        buffers,
        replicas,
        env: { MIN_REPLICAS: String(minReplicas) },
        ...(aof ? { aof } : {}),
      });
      system = {
        edgeUrls: local.stack.edges.map((edge) => edge.url),
        wsUrls: local.stack.edges.map((edge) => edge.wsUrl),
        ingestToken: local.stack.env.INGEST_TOKEN ?? '',
        jwtSecret: local.stack.env.JWT_SECRET ?? '',
        bufferUrls: local.stack.buffers.map((buffer) => buffer.url),
        pids: local.pids,
        redisVersion: local.redisVersion,
        description: {
          edges,
          buffers,
          redisPersistence:
            (aof ? `AOF, appendfsync ${aof}` : 'no persistence') +
            (replicas > 0
              ? `, ${replicas} replicas + 3 Sentinels, MIN_REPLICAS=${minReplicas}`
              : ''),
          env: local.publicEnv,
        },
      };
    }
    const waitQuiet = numberArg(values, 'wait-quiet', 0, { min: 0, max: 1800 });
    if (waitQuiet > 0) {
      const wait = await waitForQuietMachine(20, 10, waitQuiet, (line) => console.error(line));
      console.error(
        wait.quiet
          ? `machine quiet after ${wait.waitedSec.toFixed(0)} s`
          : `machine still busy (${wait.lastBusyPercent.toFixed(0)}%) after ${waitQuiet} s: measuring anyway`,
      );
    }
    const report = await runScenario(system, scenario);
    await stopLocal();
    const dir = await writeReport(outRoot, report);
    console.log(`report: ${join(dir, 'report.md')}`);
    console.log(report.passed ? 'PASS' : `FAIL: ${report.failures.join('; ')}`);
    return report.passed ? 0 : 1;
  } finally {
    unguard();
    await stopLocal();
  }
});

function targetSystem(values: Record<string, string | boolean | undefined>): ScenarioSystem {
  const allowRemote = values['allow-remote'] === true;
  const list = (name: string): URL[] =>
    typeof values[name] === 'string'
      ? (values[name] as string)
          .split(',')
          .filter((item) => item.trim() !== '')
          .map((item) => checkTarget(item.trim(), allowRemote))
      : [];
  const edges = list('target');
  if (edges.length === 0) throw new UsageError('--target needs at least one edge URL');
  const pids = typeof values.pid === 'string' ? values.pid.split(',').map(parsePid) : [];
  return {
    edgeUrls: edges.map(httpBaseOf),
    wsUrls: edges.map(wsUrlOf),
    ingestToken: envSecret('INGEST_TOKEN'),
    jwtSecret: envSecret('JWT_SECRET'),
    bufferUrls: list('buffer-metrics').map(httpBaseOf),
    pids,
    redisVersion: 'unknown (existing deployment)',
    description: { targets: edges.map(httpBaseOf) },
  };
}

function aofArg(value: string | boolean | undefined): 'always' | 'everysec' | undefined {
  if (value === undefined) return undefined;
  if (value === 'always' || value === 'everysec') return value;
  throw new UsageError(`--aof expects always or everysec, got ${String(value)}`);
}

function parsePid(item: string): { name: string; pid: number } {
  const [name, pidText] = item.split('=');
  const pid = Number(pidText);
  if (!name || !Number.isInteger(pid) || pid <= 0)
    throw new UsageError(`--pid expects NAME=PID, got ${item}`);
  return { name, pid };
}
