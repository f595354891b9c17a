import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, waitUntil, type Stack } from '@agentwire/testing';
import type { RunView, Transport } from '../src/index.js';
import { agentRunScript, freshUserId, ingestOk, observedClient } from './stack-client.js';

const TEXTS = { thinking: 'Short thought. ', answer: 'An answer in a few tokens 🙂 done.' };

/**
 * The run store against real edges: live appends, the snapshots after a
 * welcome, and `sync()` (a frame over a WebSocket, GET /v1/runs/{runId}
 * over SSE).
 */
describe.each<Transport>(['websocket', 'sse'])('client runs over %s (real stack)', (transport) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ edges: 1 });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function connectedClient(userId: string) {
    const token = await stack.token(userId);
    const o = observedClient({ url: stack.edges[0]!.wsUrl, getToken: () => token, transport });
    const runs: RunView[] = [];
    o.client.on('run', (run) => {
      runs.push(run);
    });
    o.client.connect();
    await o.waitForState('connected');
    return { ...o, runs };
  }

  it('builds the streams from live appends and restores them from snapshots after a reconnect', async () => {
    const userId = freshUserId(`runs-${transport}`);
    const o = await connectedClient(userId);
    const script = agentRunScript(userId, 'r-live', TEXTS);
    await ingestOk(stack, [script.started, ...script.thinking, ...script.answer.slice(0, 3)]);
    await waitUntil(
      () => o.client.getRun('r-live')?.streams.answer?.chunks === 3,
      10_000,
      20,
      'three answer chunks',
    );
    o.client.disconnect();
    await ingestOk(stack, script.answer.slice(3));
    o.client.connect();
    // The snapshot after the welcome brings what was streamed meanwhile.
    await waitUntil(
      () => o.client.getRun('r-live')?.streams.answer?.text === TEXTS.answer,
      10_000,
      20,
      'the whole answer',
    );
    await ingestOk(stack, [script.completed]);
    await waitUntil(() => o.client.getRun('r-live')?.status === 'ended', 10_000, 20, 'ended');
    expect(o.client.getRun('r-live')).toMatchObject({
      status: 'ended',
      syncing: false,
      streams: {
        thinking: { text: TEXTS.thinking, chunks: script.thinking.length, truncated: false },
        answer: { text: TEXTS.answer, chunks: script.answer.length, truncated: false },
      },
    });
    expect(o.errors).toEqual([]);
    o.client.disconnect();
  });

  it('completes a run that ended while the client was away: no snapshot comes, so it syncs', async () => {
    const userId = freshUserId(`away-${transport}`);
    const o = await connectedClient(userId);
    const script = agentRunScript(userId, 'r-away', TEXTS);
    await ingestOk(stack, [script.started, ...script.thinking, ...script.answer.slice(0, 3)]);
    await waitUntil(
      () => o.client.getRun('r-away')?.streams.answer?.chunks === 3,
      10_000,
      20,
      'three answer chunks',
    );
    o.client.disconnect();
    await ingestOk(stack, [...script.answer.slice(3), script.completed]);
    o.client.connect();
    await waitUntil(
      () => o.client.getRun('r-away')?.streams.answer?.text === TEXTS.answer,
      10_000,
      20,
      'the whole answer',
    );
    expect(o.client.getRun('r-away')).toMatchObject({ status: 'ended', syncing: false });
    o.client.disconnect();
  });

  it('sync() brings a run the client never saw, and unknown for one the server does not keep', async () => {
    const userId = freshUserId(`sync-${transport}`);
    const script = agentRunScript(userId, 'r-past', TEXTS);
    await ingestOk(stack, [script.started, ...script.thinking, ...script.answer, script.completed]);
    const o = await connectedClient(userId);
    o.client.sync('r-past');
    o.client.sync('r-never');
    await waitUntil(
      () => !o.client.getRun('r-past')?.syncing && !o.client.getRun('r-never')?.syncing,
      10_000,
      20,
      'both answers',
    );
    expect(o.client.getRun('r-past')).toMatchObject({
      status: 'ended',
      streams: { answer: { text: TEXTS.answer }, thinking: { text: TEXTS.thinking } },
    });
    expect(o.client.getRun('r-past')?.startedTs).toBeTypeOf('number');
    expect(o.client.getRun('r-never')).toMatchObject({ status: 'unknown', streams: {} });
    expect(o.errors).toEqual([]);
    o.client.disconnect();
  });
});
