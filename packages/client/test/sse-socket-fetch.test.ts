import { describe, expect, it } from 'vitest';
import { SseSocket, type FetchFunction } from '../src/sse-socket.js';

/**
 * A fetch that behaves like a browser's: called as a method of any object
 * but the global one, it rejects with "Illegal invocation" (what Chromium's
 * window.fetch did to every sync, ack and publish over SSE).
 */
function browserLikeFetch(urls: string[]): FetchFunction {
  return function (this: unknown, input: string | URL | Request): Promise<Response> {
    if (this !== undefined && this !== globalThis) {
      return Promise.reject(
        new TypeError("Failed to execute 'fetch' on 'Window': Illegal invocation"),
      );
    }
    const url = String(input);
    urls.push(url);
    if (url.includes('/v1/sse')) {
      return Promise.resolve(new Response(new ReadableStream({ start: () => undefined })));
    }
    if (url.includes('/v1/runs/')) {
      return Promise.resolve(
        Response.json({ type: 'snapshot', runId: 'r1', status: 'ended', streams: {} }),
      );
    }
    return Promise.resolve(new Response(null, { status: 202 }));
  } as FetchFunction;
}

describe('SSE transport: fetch', () => {
  it("calls the given fetch as a plain function, as a browser's window.fetch requires", async () => {
    const urls: string[] = [];
    const socket = new SseSocket('ws://edge.test:8080/v1/ws', {
      EventSource: undefined,
      fetch: browserLikeFetch(urls),
    });
    const received: string[] = [];
    socket.onmessage = ((event: { data: string }) => received.push(event.data)) as never;
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
    socket.send(JSON.stringify({ type: 'hello', token: 'jwt-1' }));
    socket.send(JSON.stringify({ type: 'sync', runId: 'r1' }));
    socket.send(JSON.stringify({ type: 'ack', seq: 3 }));
    socket.send(JSON.stringify({ type: 'publish', id: 'p1', data: {} }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(urls.map((url) => new URL(url).pathname).sort()).toEqual([
      '/v1/ack',
      '/v1/publish',
      '/v1/runs/r1',
      '/v1/sse',
    ]);
    expect(received.map((data) => (JSON.parse(data) as { type: string }).type).sort()).toEqual([
      'accepted',
      'snapshot',
    ]);
    socket.close();
  });
});
