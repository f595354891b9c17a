import { describe, expect, it } from 'vitest';
import { HttpPublisher } from '../src/http-publisher.js';

const event = { id: 'e1', userId: 'u1', name: 'agent_started' };

describe('HttpPublisher with an abort signal', () => {
  it('stops waiting before a retry as soon as the signal aborts', async () => {
    let calls = 0;
    const publisher = new HttpPublisher({
      url: 'http://127.0.0.1:1',
      token: 't',
      // 503 with Retry-After: 5 would hold the call 5 s before its retry.
      fetch: async () => {
        calls++;
        return new Response('{}', { status: 503, headers: { 'retry-after': '5' } });
      },
    });
    const stop = new AbortController();
    const startedAt = Date.now();
    const call = publisher.publish(event, { signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(calls).toBe(1);
  });

  it('hands the signal to fetch, so a request in flight is cut short too', async () => {
    let seen: AbortSignal | undefined;
    const publisher = new HttpPublisher({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: async (_url, init) => {
        seen = init?.signal ?? undefined;
        return new Response('{"accepted":1}', { status: 202 });
      },
    });
    const stop = new AbortController();
    expect(await publisher.publish(event, { signal: stop.signal })).toBe(1);
    expect(seen).toBe(stop.signal);
  });
});
