import type { RunStreamSnapshot, SnapshotFrame } from '@agentwire/protocol';
import { TestWsClient, type Stack, type WsFrame } from '@agentwire/testing';
import { expect } from 'vitest';

/** A WebSocket client of `userId` on the stack's first edge, past its welcome. */
export async function connectAs(stack: Stack, userId: string): Promise<TestWsClient> {
  const edge = stack.edges[0];
  if (!edge) throw new Error('the stack has no edge');
  const client = await TestWsClient.connect(edge.wsUrl);
  await client.hello(await stack.token(userId));
  return client;
}

/** The event frames of one run that reached `client`, in arrival order. */
export function runFrames(client: TestWsClient, runId: string): WsFrame[] {
  return client.events().filter((frame) => frame.runId === runId);
}

/** An ended run, as `client` (a connection of `userId`) received it. */
export interface DeliveredRun {
  stack: Stack;
  userId: string;
  client: TestWsClient;
  runId: string;
}

/**
 * Checks the two halves of protocol.md section 9 for each stream of an ended
 * run against the text written to it:
 * - delivery: the stream's append frames, in arrival order, join to exactly
 *   that text, and their chunks run 1, 2, ... with no gap or repeat (as many
 *   as `chunks[stream]`, when given);
 * - retention: GET /v1/runs/{runId} keeps exactly that text, with as many
 *   chunks, and says the run ended.
 */
export async function expectRunExact(
  { stack, userId, client, runId }: DeliveredRun,
  texts: Record<string, string>,
  chunks: Record<string, number> = {},
): Promise<void> {
  const appends = runFrames(client, runId).filter((frame) => typeof frame.append === 'string');
  expect(new Set(appends.map((frame) => frame.stream))).toEqual(new Set(Object.keys(texts)));
  const kept: Record<string, RunStreamSnapshot> = {};
  for (const [stream, text] of Object.entries(texts)) {
    const ofStream = appends.filter((frame) => frame.stream === stream);
    const count = chunks[stream] ?? ofStream.length;
    expect(ofStream.map((frame) => frame.append).join(''), `text of ${stream}`).toBe(text);
    expect(
      ofStream.map((frame) => frame.chunk),
      `chunks of ${stream}`,
    ).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    kept[stream] = { text, chunks: count, truncated: false };
  }
  const snapshot = await fetchRunSnapshot(stack, userId, runId);
  expect(snapshot.status).toBe('ended');
  expect(snapshot.streams).toEqual(kept);
}

/** The run as the service keeps it: GET /v1/runs/{runId} with the user's token. */
async function fetchRunSnapshot(
  stack: Stack,
  userId: string,
  runId: string,
): Promise<SnapshotFrame> {
  const edge = stack.edges[0];
  if (!edge) throw new Error('the stack has no edge');
  const response = await fetch(`${edge.url}/v1/runs/${encodeURIComponent(runId)}`, {
    headers: { authorization: `Bearer ${await stack.token(userId)}` },
    signal: AbortSignal.timeout(10_000),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as SnapshotFrame;
}
