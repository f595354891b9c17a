import { expect, it, vi } from 'vitest';
import { createHarness, flush } from './client-harness.js';
it('dbg', async () => {
  vi.useFakeTimers();
  const h = createHarness();
  const socket = await h.connect({ heartbeatMs: 1000 });
  await vi.advanceTimersByTimeAsync(2000);
  console.log(socket.closedByClient, h.disconnects, vi.getTimerCount(), h.client.state, h.errors);
  await flush();
  console.log(h.fake.sockets.length, vi.getTimerCount());
  await vi.advanceTimersByTimeAsync(10);
  console.log(h.fake.sockets.length, vi.getTimerCount());
  expect(1).toBe(1);
  vi.useRealTimers();
});
