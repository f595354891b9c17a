import type { SnapshotFrame } from '@agentwire/protocol';
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

/**
 * Checks what the protocol promises a connection for each stream of a run
 * (protocol.md section 9): its append frames, in arrival order, join to
 * exactly `texts[stream]`, and their chunks run 1, 2, ... with no gap or
 * repeat (as many as `chunks[stream]`, when given).
 */
export function expectStreamsDelivered(
  frames: readonly WsFrame[],
  texts: Record<string, string>,
  chunks: Record<string, number> = {},
): void {
  const appends = frames.filter((frame) => typeof frame.append === 'string');
  expect(new Set(appends.map((frame) => frame.stream))).toEqual(new Set(Object.keys(texts)));
  for (const [stream, text] of Object.entries(texts)) {
    const ofStream = appends.filter((frame) => frame.stream === stream);
    expect(ofStream.map((frame) => frame.append).join(''), `text of ${stream}`).toBe(text);
    const expectedCount = chunks[stream] ?? ofStream.length;
    expect(
      ofStream.map((frame) => frame.chunk),
      `chunks of ${stream}`,
    ).toEqual(Array.from({ length: expectedCount }, (_, i) => i + 1));
  }
}

/** The run as the service keeps it: GET /v1/runs/{runId} with the user's token. */
export async function fetchRunSnapshot(
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

/** Checks that the service keeps each stream exactly as written, with as many chunks, and the run ended. */
export function expectRunKept(
  snapshot: SnapshotFrame,
  texts: Record<string, string>,
  chunks: Record<string, number>,
): void {
  expect(snapshot.status).toBe('ended');
  expect(snapshot.streams).toEqual(
    Object.fromEntries(
      Object.entries(texts).map(([stream, text]) => [
        stream,
        { text, chunks: chunks[stream], truncated: false },
      ]),
    ),
  );
}
