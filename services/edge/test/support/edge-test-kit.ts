import { randomBytes } from 'node:crypto';
import {
  getFreePort,
  startService,
  TestWsClient,
  type ServiceProcess,
  type Stack,
  type WsFrame,
} from '@agentwire/testing';

/** A user id unique to one test (tests share one stack per file). */
export function uniqueUser(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

let eventCounter = 0;

/** An ingest event for `userId`; critical by default (tool_executing is in the default list). */
export function ingestEvent(
  userId: string,
  fields: { name?: string; critical?: boolean; id?: string; data?: unknown } = {},
): Record<string, unknown> {
  return {
    id: fields.id ?? `evt-${userId}-${++eventCounter}`,
    userId,
    name: fields.name ?? 'tool_executing',
    ...(fields.critical === undefined ? {} : { critical: fields.critical }),
    data: fields.data ?? { n: eventCounter },
  };
}

/** An append to stream `stream` of run `runId` (protocol.md section 9). */
export function appendEvent(
  userId: string,
  runId: string,
  id: string,
  text: string,
  stream = 'answer',
): Record<string, unknown> {
  return { id, userId, name: 'token', runId, stream, append: text };
}

/** Opens a socket on edge `edge` and completes the hello; resolves with the client and its welcome. */
export async function connectUser(
  stack: Stack,
  userId: string,
  hello: Record<string, unknown> = {},
  edge = 0,
): Promise<{ client: TestWsClient; welcome: WsFrame }> {
  const target = stack.edges[edge];
  if (!target) throw new Error(`no edge ${edge}`);
  const client = await TestWsClient.connect(target.wsUrl);
  const welcome = await client.hello(await stack.token(userId), hello);
  return { client, welcome };
}

/** The seqs of the critical events a client received, in arrival order. */
export function seqsOf(client: TestWsClient): number[] {
  return client
    .events()
    .filter((frame) => frame.critical === true)
    .map((frame) => frame.seq as number);
}

/** 1..n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Posts events and fails unless they were all accepted. */
export async function ingestOk(stack: Stack, events: unknown, edge = 0): Promise<void> {
  const result = await stack.ingest(events, { edge });
  if (result.status !== 202) {
    throw new Error(`ingest answered ${result.status}: ${JSON.stringify(result.body)}`);
  }
}

/** GET /v1/runs/{runId} on edge `edge` with `userId`'s token: the status and the parsed body. */
export async function getRun(
  stack: Stack,
  userId: string,
  runId: string,
  edge = 0,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const target = stack.edges[edge];
  if (target === undefined) throw new Error(`no edge ${edge}`);
  const response = await fetch(`${target.url}/v1/runs/${encodeURIComponent(runId)}`, {
    headers: { authorization: `Bearer ${await stack.token(userId)}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * One more edge with the stack's settings but on a private single Redis (for
 * outage tests that kill it), whatever the stack's topology.
 */
export async function startEdgeOnRedis(
  stack: Stack,
  redisUrl: string,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const { REDIS_CLUSTER_NODES: _cluster, ...baseEnv } = stack.env;
  return startService('edge', {
    ...baseEnv,
    REDIS_URL: redisUrl,
    PORT: String(await getFreePort()),
    ...env,
  });
}
