import { getFreePort } from './free-port.js';
import { startService, type ServiceProcess } from './service-process.js';
import { signToken } from './sign-token.js';
import { startTestRedis, type TestRedis } from './test-redis.js';
import { uniquePrefix } from './unique-prefix.js';

export interface StackOptions {
  /** Number of edge processes. @default 1 */
  edges?: number;
  /** Number of buffer processes. @default 1 */
  buffers?: number;
  /** Overrides of the shared environment. */
  env?: Record<string, string>;
  /** Use this Redis (and leave it running on stop()) instead of starting one. */
  redis?: TestRedis;
}

export interface IngestResult {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
  headers: Headers;
}

/** Redis plus edge and buffer processes sharing one configuration. */
export interface Stack {
  readonly redis: TestRedis;
  /** The environment every process of the stack gets (Redis address included). */
  readonly env: Record<string, string>;
  readonly edges: ServiceProcess[];
  readonly buffers: ServiceProcess[];
  /** Starts one more edge (NODE_ID=edge-<index>, fresh PORT) and appends it to `edges`. */
  startEdge(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  /** Starts one more buffer (BUFFER_ID=buffer-<index>, fresh PORT) and appends it to `buffers`. */
  startBuffer(extraEnv?: Record<string, string>): Promise<ServiceProcess>;
  /** A client JWT for `sub`, signed with the stack's JWT_SECRET unless `secret` is given. */
  token(sub: string, options?: { expiresInSec?: number; secret?: string }): Promise<string>;
  /** POST /v1/events on edge `edge` (default 0) with the ingest token (or `token`). */
  ingest(events: unknown, options?: { edge?: number; token?: string }): Promise<IngestResult>;
  /** Stops every process (SIGTERM, then SIGKILL), then Redis if the stack started it. */
  stop(): Promise<void>;
}

/** Environment defaults tuned for tests: short leases and TTLs so failover tests run in seconds. */
export function defaultStackEnv(): Record<string, string> {
  return {
    JWT_SECRET: 'test-secret-0123456789abcdef0123456789',
    INGEST_TOKEN: 'test-ingest-token',
    KEY_PREFIX: uniquePrefix('stack'),
    SHARDS: '4',
    LEASE_TTL_MS: '2000',
    NODE_TTL_MS: '3000',
    // A SIGTERMed edge would otherwise spread reconnects over 10 s and wait up to 30 s.
    DRAIN_WINDOW_MS: '500',
    DRAIN_GRACE_MS: '5000',
  };
}

const INGEST_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 8_000;

/** Starts (or reuses) a Redis, then `buffers` buffers and `edges` edges, and waits until all are ready. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownsRedis = options.redis === undefined;
  const redis = options.redis ?? (await startTestRedis());
  const env: Record<string, string> = { ...redis.env, ...defaultStackEnv(), ...options.env };
  const edges: ServiceProcess[] = [];
  const buffers: ServiceProcess[] = [];
  // Indices are taken before any await so concurrent starts get distinct ids.
  let nextEdge = 0;
  let nextBuffer = 0;

  const launchBuffer = async (
    index: number,
    extraEnv: Record<string, string>,
  ): Promise<ServiceProcess> => {
    const metricsPort = String(await getFreePort());
    return startService('buffer', {
      ...env,
      BUFFER_ID: `buffer-${index}`,
      PORT: metricsPort,
      ...extraEnv,
    });
  };
  const launchEdge = async (
    index: number,
    extraEnv: Record<string, string>,
  ): Promise<ServiceProcess> => {
    const port = String(await getFreePort());
    return startService('edge', { ...env, NODE_ID: `edge-${index}`, PORT: port, ...extraEnv });
  };

  const startBuffer = async (extraEnv: Record<string, string> = {}): Promise<ServiceProcess> => {
    const proc = await launchBuffer(nextBuffer++, extraEnv);
    buffers.push(proc);
    return proc;
  };
  const startEdge = async (extraEnv: Record<string, string> = {}): Promise<ServiceProcess> => {
    const proc = await launchEdge(nextEdge++, extraEnv);
    edges.push(proc);
    return proc;
  };

  const stop = async (): Promise<void> => {
    await Promise.all([...edges, ...buffers].map((proc) => proc.stop(STOP_TIMEOUT_MS)));
    if (ownsRedis) await redis.stop();
  };

  const stack: Stack = {
    redis,
    env,
    edges,
    buffers,
    startEdge,
    startBuffer,
    token: (sub, tokenOptions = {}) =>
      signToken({
        sub,
        secret: tokenOptions.secret ?? env.JWT_SECRET ?? '',
        expiresInSec: tokenOptions.expiresInSec,
      }),
    async ingest(events, ingestOptions = {}) {
      const edgeIndex = ingestOptions.edge ?? 0;
      const edge = edges[edgeIndex];
      if (!edge) throw new Error(`stack has no edge ${edgeIndex} (it has ${edges.length})`);
      const res = await fetch(`${edge.url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${ingestOptions.token ?? env.INGEST_TOKEN ?? ''}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(events),
        signal: AbortSignal.timeout(INGEST_TIMEOUT_MS),
      });
      const text = await res.text();
      return { status: res.status, body: parseJsonOrText(text), headers: res.headers };
    },
    stop,
  };

  try {
    // Buffers first: edges may want the shard owners up when they report ready.
    buffers.push(...(await launchAll(options.buffers ?? 1, () => launchBuffer(nextBuffer++, {}))));
    edges.push(...(await launchAll(options.edges ?? 1, () => launchEdge(nextEdge++, {}))));
  } catch (err) {
    await stop();
    throw err;
  }
  return stack;
}

/**
 * Starts `count` processes in parallel and returns them in start order. If any
 * fails, the others are killed and the first failure is thrown.
 */
async function launchAll(
  count: number,
  launch: () => Promise<ServiceProcess>,
): Promise<ServiceProcess[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => launch()));
  const started = results.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((proc) => proc.kill()));
    throw failure.reason;
  }
  return started;
}

function parseJsonOrText(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
