import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, envSecret, parseCli, runCli, UsageError } from './src/cli-args.js';
import { guardProcess } from './src/interrupt-guard.js';
import { parseTransport } from './src/fleet-transport.js';
import { probeIdleConnections } from './src/idle-connections-probe.js';
import { startLocalStack, type LocalStack } from './src/local-stack.js';
import { checkTarget, httpBaseOf, wsUrlOf } from './src/loopback-guard.js';
import { machineInfo } from './src/machine-info.js';
import { reportDirName } from './src/report-writer.js';

const USAGE = `Usage: npx tsx loadtest/idle-connections.ts [options]

Memory per idle connection: opens N authenticated idle WebSocket connections (or SSE streams) to
one edge (source addresses spread over 127.0.0.2..9) and compares the edge's
RSS before and with them open. Starts a private stack (1 edge, 1 buffer) unless
--target is given.
  --connections N        1..30000 (default 10000; above ~9,000 check ulimit -n)
  --users N              users (default connections/4; MAX_CONNECTIONS_PER_USER is 5)
  --source-addresses N   1..250 (default 8)
  --settle S             quiet seconds before each reading, 1..60 (default 5)
  --transport T          websocket (default) or sse
  --json                 print the result as JSON
  --out DIR              report root: writes DIR/<timestamp>/idle-connections.json (default loadtest/reports)
Existing edge (JWT_SECRET from the env):
  --target URL --pid PID [--allow-remote is refused: RSS is read from local /proc]`;

// Connecting is capped at 3 minutes and each reading takes seconds: 10 minutes bounds the run.
const OVERALL_CAP_MS = 10 * 60 * 1000;

runCli(USAGE, async () => {
  const values = parseCli({
    connections: { type: 'string' },
    users: { type: 'string' },
    'source-addresses': { type: 'string' },
    settle: { type: 'string' },
    transport: { type: 'string' },
    target: { type: 'string' },
    pid: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const connections = numberArg(values, 'connections', 10_000, { min: 1, max: 30_000 });
  const common = {
    connections,
    users: numberArg(values, 'users', Math.ceil(connections / 4), { min: 1, max: connections }),
    sourceAddresses: numberArg(values, 'source-addresses', 8, { min: 1, max: 250 }),
    settleSec: numberArg(values, 'settle', 5, { min: 1, max: 60 }),
    transport: parseTransport(values.transport),
    log: (line: string) => console.error(line),
  };
  let local: LocalStack | undefined;
  const unguard = guardProcess(async () => {
    await local?.stack.stop();
  }, OVERALL_CAP_MS);
  try {
    let target: { wsUrl: string; httpUrl: string; edgePid: number; jwtSecret: string };
    if (typeof values.target === 'string') {
      const url = checkTarget(values.target, false);
      const pid = numberArg(values, 'pid', 0, { min: 1, max: 2 ** 22 });
      if (pid === 0) throw new UsageError('--target needs --pid of the edge process');
      target = {
        wsUrl: wsUrlOf(url),
        httpUrl: httpBaseOf(url),
        edgePid: pid,
        jwtSecret: envSecret('JWT_SECRET'),
      };
    } else {
      console.error('starting Redis, 1 buffer, 1 edge...');
      local = await startLocalStack({ edges: 1, buffers: 1 });
      const edge = local.stack.edges[0];
      if (!edge) throw new Error('the stack has no edge');
      target = {
        wsUrl: edge.wsUrl,
        httpUrl: edge.url,
        edgePid: edge.pid,
        jwtSecret: local.stack.env.JWT_SECRET ?? '',
      };
    }
    const startedAt = new Date();
    const result = await probeIdleConnections({ ...common, ...target });
    const redisVersion = local?.redisVersion ?? 'unknown (existing deployment)';
    const outRoot =
      typeof values.out === 'string'
        ? values.out
        : join(dirname(fileURLToPath(import.meta.url)), 'reports');
    const dir = join(outRoot, reportDirName(startedAt));
    await mkdir(dir, { recursive: true });
    const command =
      `npx tsx loadtest/idle-connections.ts ${process.argv.slice(2).join(' ')}`.trim();
    const file = join(dir, 'idle-connections.json');
    await writeFile(
      file,
      `${JSON.stringify({ createdAt: startedAt.toISOString(), command, machine: machineInfo(redisVersion), result }, null, 2)}\n`,
    );
    console.error(`report: ${file}`);
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(
        [
          `idle connections: ${result.opened}/${result.requested} opened in ${result.connectSeconds.toFixed(1)} s (edge reports ${result.edgeReportedConnections})`,
          `  edge RSS before ${result.rssBeforeMiB.toFixed(1)} MiB, open ${result.rssOpenMiB.toFixed(1)} MiB, after close ${result.rssAfterCloseMiB.toFixed(1)} MiB`,
          `  ${result.kibPerConnection.toFixed(2)} KiB of RSS per idle connection`,
          `  V8 heap used ${result.heapUsedBeforeMiB.toFixed(1)} -> ${result.heapUsedOpenMiB.toFixed(1)} MiB: ${result.heapKibPerConnection.toFixed(2)} KiB per connection`,
        ].join('\n'),
      );
    }
    return result.failed === 0 ? 0 : 1;
  } finally {
    unguard();
    await local?.stack.stop();
  }
});
