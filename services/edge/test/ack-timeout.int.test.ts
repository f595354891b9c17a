import { startStack, TestWsClient, type ServiceProcess, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEvent, ingestOk, uniqueUser } from './support/edge-test-kit.js';

const ACK_TIMEOUT_MS = 500;

let stack: Stack;
/** An edge with ACK_TIMEOUT_MS=500: unacknowledged events close a socket after about 1.5 s. */
let edge: ServiceProcess;

beforeAll(async () => {
  stack = await startStack();
  edge = await stack.startEdge({ ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS) });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('acknowledgement timeouts', () => {
  it('closes 4408 a client that never acks after about 3 x ACK_TIMEOUT_MS, keeps one that acks', async () => {
    const silentUser = uniqueUser('silent');
    const ackingUser = uniqueUser('acking');
    const silent = await TestWsClient.connect(edge.wsUrl);
    await silent.hello(await stack.token(silentUser));
    const acking = await TestWsClient.connect(edge.wsUrl);
    await acking.hello(await stack.token(ackingUser));
    const timedOutBefore = await metric('aw_edge_acks_timed_out_total');
    const confirmedBefore = await metric('aw_edge_acks_confirmed_total');

    await ingestOk(stack, [ingestEvent(silentUser), ingestEvent(ackingUser)]);
    const [ackingEvent] = await acking.waitForEvents(1);
    acking.send({ type: 'ack', seq: ackingEvent?.seq });
    await silent.waitForEvents(1);
    const deliveredAt = Date.now();

    const closed = await silent.closed;
    const closedAfter = Date.now() - deliveredAt;
    expect(closed.code).toBe(4408);
    // 3 x 500 ms, plus up to one sweep (250 ms) and scheduling.
    expect(closedAfter).toBeGreaterThanOrEqual(3 * ACK_TIMEOUT_MS - 100);
    expect(closedAfter).toBeLessThan(3 * ACK_TIMEOUT_MS + 1500);
    expect(await metric('aw_edge_acks_timed_out_total')).toBe(timedOutBefore + 1);
    expect(await metric('aw_edge_acks_confirmed_total')).toBe(confirmedBefore + 1);
    expect(await metric('aw_edge_ack_timeout_closes_total')).toBe(1);

    // The acking client outlives several more timeouts and keeps receiving.
    await new Promise((resolve) => setTimeout(resolve, 4 * ACK_TIMEOUT_MS));
    await ingestOk(stack, ingestEvent(ackingUser));
    const events = await acking.waitForEvents(2);
    acking.send({ type: 'ack', seq: events[1]?.seq });
    expect(acking.closeState).toBeUndefined();
    expect(await metric('aw_edge_acks_timed_out_total')).toBe(timedOutBefore + 1);
    await acking.close();
  });
});
