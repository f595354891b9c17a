import { signToken } from '@agentwire/testing';
import { createFleetClient, type FleetConnection, type FleetTransport } from './fleet-transport.js';
import { runTag } from './ingest-event-factory.js';
import { summarize } from './percentile.js';
import { readRssBytes } from './process-sampler.js';
import { sumMetric } from './prometheus-text.js';
import { sourceAddressPlan } from './source-addresses.js';

export interface IdleProbeOptions {
  /** The edge's WebSocket URL. */
  wsUrl: string;
  /** The edge's HTTP base, for aw_edge_connections. */
  httpUrl: string;
  /** Pid of the edge process (its RSS is read from /proc). */
  edgePid: number;
  jwtSecret: string;
  connections: number;
  users: number;
  /** Spread over 127.0.0.2..(N+1). @default 8 */
  sourceAddresses?: number;
  /** Quiet time before each RSS reading. @default 5 */
  settleSec?: number;
  /** @default 'websocket' */
  transport?: FleetTransport;
  log?: (line: string) => void;
}

export interface IdleProbeResult {
  kind: 'idle-connections';
  requested: number;
  opened: number;
  failed: number;
  connectSeconds: number;
  /** aw_edge_connections as the edge reported it with the fleet open. */
  edgeReportedConnections: number;
  rssBeforeMiB: number;
  rssOpenMiB: number;
  rssAfterCloseMiB: number;
  /** (RSS with the fleet open - RSS before) / opened, in KiB. */
  kibPerConnection: number;
  /** V8 heap in use (nodejs_heap_size_used_bytes of the edge's /metrics); NaN when not exported. */
  heapUsedBeforeMiB: number;
  heapUsedOpenMiB: number;
  /** Growth of the V8 heap in use per connection, in KiB: the JavaScript share of the RSS growth. */
  heapKibPerConnection: number;
}

const CONNECT_CONCURRENCY = 200;
const CONNECT_CAP_MS = 180_000;
const MIB = 1024 * 1024;

/**
 * Opens `connections` authenticated, idle sockets to one edge and reports how
 * much the edge's resident memory grew per connection. RSS is the median of
 * five readings after a quiet period, so a garbage collection in the middle
 * of a reading does not decide the result.
 */
export async function probeIdleConnections(options: IdleProbeOptions): Promise<IdleProbeResult> {
  const log = options.log ?? (() => undefined);
  const settleMs = (options.settleSec ?? 5) * 1000;
  const tag = runTag();
  const users = Array.from({ length: options.users }, (_, i) => `idle-${tag}-u${i}`);
  const tokens = await Promise.all(
    users.map((sub) => signToken({ sub, secret: options.jwtSecret })),
  );
  const plan = sourceAddressPlan(new URL(options.wsUrl).hostname, options.sourceAddresses ?? 8);

  await sleep(settleMs);
  const before = await medianRss(options.edgePid);
  const heapBefore = await medianHeapUsed(options.httpUrl);
  log(`edge RSS before: ${(before / MIB).toFixed(1)} MiB`);

  const clients = Array.from({ length: options.connections }, (_, i) =>
    createFleetClient(options.transport ?? 'websocket', {
      urls: [options.wsUrl],
      userId: users[i % users.length] as string,
      token: tokens[i % users.length] as string,
      ...(plan ? { localAddress: plan(i) } : {}),
      reconnect: false,
    }),
  );
  const started = Date.now();
  let next = 0;
  let opened = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < clients.length && Date.now() - started < CONNECT_CAP_MS) {
      const client = clients[next++] as FleetConnection;
      try {
        await client.connect();
        opened++;
        if (opened % 1000 === 0) log(`  ${opened} open`);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
  const connectSeconds = (Date.now() - started) / 1000;
  failed = options.connections - opened;
  log(`opened ${opened}, failed ${failed} in ${connectSeconds.toFixed(1)} s`);

  await sleep(settleMs);
  const open = await medianRss(options.edgePid);
  const heapOpen = await medianHeapUsed(options.httpUrl);
  const edgeReportedConnections = await edgeConnections(options.httpUrl);
  log(
    `edge RSS with ${opened} idle connections: ${(open / MIB).toFixed(1)} MiB (edge reports ${edgeReportedConnections})`,
  );

  await Promise.all(clients.map((client) => client.close()));
  await sleep(settleMs);
  const afterClose = await medianRss(options.edgePid);
  return {
    kind: 'idle-connections',
    requested: options.connections,
    opened,
    failed,
    connectSeconds,
    edgeReportedConnections,
    rssBeforeMiB: before / MIB,
    rssOpenMiB: open / MIB,
    rssAfterCloseMiB: afterClose / MIB,
    kibPerConnection: opened > 0 ? (open - before) / 1024 / opened : Number.NaN,
    heapUsedBeforeMiB: heapBefore / MIB,
    heapUsedOpenMiB: heapOpen / MIB,
    heapKibPerConnection: opened > 0 ? (heapOpen - heapBefore) / 1024 / opened : Number.NaN,
  };
}

async function medianRss(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(await readRssBytes(pid));
    await sleep(200);
  }
  return summarize(readings).p50;
}

async function medianHeapUsed(httpUrl: string): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(await edgeMetric(httpUrl, 'nodejs_heap_size_used_bytes'));
    await sleep(200);
  }
  return summarize(readings).p50;
}

function edgeConnections(httpUrl: string): Promise<number> {
  return edgeMetric(httpUrl, 'aw_edge_connections');
}

async function edgeMetric(httpUrl: string, name: string): Promise<number> {
  try {
    const res = await fetch(new URL('/metrics', httpUrl), { signal: AbortSignal.timeout(5000) });
    return sumMetric(await res.text(), name);
  } catch {
    return Number.NaN;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
