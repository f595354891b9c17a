import { afterEach, describe, expect, it } from 'vitest';
import { startStack, waitUntil, type Stack } from '@agentwire/testing';
import {
  edgeIndexOf,
  freshUserId,
  ingestOk,
  observedClient,
  range,
  runEvents,
} from './stack-client.js';

/** Edge faults under a connected client: each test gets its own stack. */
describe('client failover', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('moves to the other edge when its edge is SIGKILLed, losing nothing', async () => {
    stack = await startStack({ edges: 2 });
    const s = stack;
    const userId = freshUserId('kill');
    const token = await s.token(userId);
    const o = observedClient({ url: s.edges.map((e) => e.wsUrl), getToken: () => token });
    o.client.connect();
    await o.waitForState('connected');
    const victim = edgeIndexOf(s, o.welcomes[0]!.node);
    const survivor = 1 - victim;
    await ingestOk(s, runEvents(userId, 'r1', 4), survivor);
    await o.waitForCritical(4);

    await s.edges[victim]!.kill();
    await ingestOk(s, runEvents(userId, 'r2', 6), survivor);
    await o.waitForCritical(10, 20_000);
    expect(o.seqs()).toEqual(range(1, 10));
    expect(o.welcomes.at(-1)?.node).toBe(`edge-${survivor}`);
    expect(o.client.state).toBe('connected');
    o.client.disconnect();
  });

  it("follows a draining edge's reconnect frame without going closed", async () => {
    stack = await startStack({ edges: 2 });
    const s = stack;
    const userId = freshUserId('drain');
    const token = await s.token(userId);
    const o = observedClient({ url: s.edges.map((e) => e.wsUrl), getToken: () => token });
    o.client.connect();
    await o.waitForState('connected');
    const draining = edgeIndexOf(s, o.welcomes[0]!.node);
    const other = 1 - draining;
    await ingestOk(s, runEvents(userId, 'r1', 3), other);
    await o.waitForCritical(3);

    s.edges[draining]!.signal('SIGTERM');
    await waitUntil(() => o.welcomes.length === 2, 15_000, 20, 'welcome from the other edge');
    await ingestOk(s, runEvents(userId, 'r2', 3), other);
    await o.waitForCritical(6);
    expect(o.seqs()).toEqual(range(1, 6));
    expect(o.welcomes[1]?.node).toBe(`edge-${other}`);
    expect(o.states).not.toContain('closed');
    // The move was announced: either the drain timer or the node's 4503 close.
    expect(o.disconnects[0]?.byClient === true || o.disconnects[0]?.code === 4503).toBe(true);
    o.client.disconnect();
  });

  it('detects a silent edge from missing heartbeats and resumes elsewhere', async () => {
    stack = await startStack({ edges: 2, env: { HEARTBEAT_MS: '500' } });
    const s = stack;
    const userId = freshUserId('frozen');
    const token = await s.token(userId);
    const o = observedClient({ url: s.edges.map((e) => e.wsUrl), getToken: () => token });
    o.client.connect();
    await o.waitForState('connected');
    expect(o.welcomes[0]?.heartbeatMs).toBe(500);
    const frozen = edgeIndexOf(s, o.welcomes[0]!.node);
    // Idle but healthy for several heartbeats: no reconnect.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(o.welcomes).toHaveLength(1);

    s.edges[frozen]!.signal('SIGSTOP');
    try {
      await ingestOk(s, runEvents(userId, 'r1', 3), 1 - frozen);
      await o.waitForCritical(3, 20_000);
      expect(o.welcomes.at(-1)?.node).toBe(`edge-${1 - frozen}`);
      expect(o.disconnects[0]?.reason).toMatch(/heartbeat/);
      expect(o.seqs()).toEqual([1, 2, 3]);
    } finally {
      s.edges[frozen]!.signal('SIGCONT');
    }
    o.client.disconnect();
  });
});
