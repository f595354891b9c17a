import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ClientClosedError,
  OfflineQueueFullError,
  PayloadTooLargeError,
  PublishRejectedError,
} from '../src/index.js';
import { createHarness, flush } from './client-harness.js';

/** Publishes a test does not wait for; disconnect() rejects them, which is expected here. */
function fireAndForget(promise: Promise<unknown>): void {
  promise.catch(() => undefined);
}

describe('publish', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resolves on accepted with the matching id', async () => {
    const h = createHarness();
    const socket = await h.connect();
    const result = h.client.publish({ text: 'hi' }, { threadId: 't3', id: 'm-123' });
    expect(socket.framesOf('publish')).toEqual([
      { type: 'publish', id: 'm-123', threadId: 't3', data: { text: 'hi' } },
    ]);
    socket.receive({ type: 'accepted', id: 'other' });
    socket.receive({ type: 'accepted', id: 'm-123' });
    await expect(result).resolves.toEqual({ id: 'm-123' });
    expect(h.client.pendingPublishes).toBe(0);
    h.client.disconnect();
  });

  it('generates unique ids when none is given', async () => {
    const h = createHarness();
    const socket = await h.connect();
    for (let i = 0; i < 50; i++) fireAndForget(h.client.publish({ i }));
    const ids = socket.framesOf('publish').map((p) => p.id);
    expect(new Set(ids).size).toBe(50);
    expect(ids.every((id) => /^m-[0-9a-f]{32}$/.test(id))).toBe(true);
    h.client.disconnect();
  });

  it('rejects on an error frame with its id', async () => {
    const h = createHarness();
    const socket = await h.connect();
    const result = h.client.publish('x', { id: 'm-1' });
    socket.receive({ type: 'error', code: 'rate_limited', message: 'slow down', id: 'm-1' });
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishRejectedError);
    expect(error).toMatchObject({ name: 'PublishRejectedError', serverCode: 'rate_limited' });
    h.client.disconnect();
  });

  it('re-sends unsettled publishes with the same id after a reconnect', async () => {
    const h = createHarness();
    const first = await h.connect();
    const result = h.client.publish({ text: 'hi' }, { threadId: 't3' });
    const [sent] = first.framesOf('publish');
    first.serverClose(1006);
    await flush();
    const queued = h.client.publish({ text: 'while offline' });
    const second = await h.accept();
    const resent = second.framesOf('publish');
    expect(resent).toHaveLength(2);
    expect(resent[0]).toEqual(sent);
    second.receive({ type: 'accepted', id: sent?.id ?? '' });
    second.receive({ type: 'accepted', id: resent[1]?.id ?? '' });
    await expect(result).resolves.toEqual({ id: sent?.id });
    await expect(queued).resolves.toEqual({ id: resent[1]?.id });
    h.client.disconnect();
  });

  it('bounds the offline queue with OfflineQueueFullError', async () => {
    const h = createHarness({ maxOfflineQueue: 2 });
    h.client.connect();
    const a = h.client.publish(1);
    const b = h.client.publish(2);
    const error = await h.client.publish(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OfflineQueueFullError);
    expect(error).toMatchObject({ name: 'OfflineQueueFullError', limit: 2 });
    const socket = await h.accept();
    expect(socket.framesOf('publish').map((p) => p.data)).toEqual([1, 2]);
    // Once connected the limit no longer applies.
    fireAndForget(h.client.publish(4));
    expect(socket.framesOf('publish')).toHaveLength(3);
    h.client.disconnect();
    await expect(a).rejects.toBeInstanceOf(ClientClosedError);
    await expect(b).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('rejects at once when closed, and refuses frames over maxPayload', async () => {
    const h = createHarness();
    await expect(h.client.publish('x')).rejects.toBeInstanceOf(ClientClosedError);
    await h.connect({ maxPayload: 100 });
    await expect(h.client.publish('y'.repeat(200))).rejects.toBeInstanceOf(PayloadTooLargeError);
    h.client.disconnect();
  });
});
