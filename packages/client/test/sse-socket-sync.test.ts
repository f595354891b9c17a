import { describe, expect, it, vi } from 'vitest';
import type { SnapshotFrame } from '@agentwire/protocol';
import { SseSocket } from '../src/sse-socket.js';
import { snapshotFrame } from './run-frames.js';

interface Request {
  url: string;
  init: RequestInit | undefined;
}

/** An SSE socket on a fake fetch: the stream stays open, GET /v1/runs answers from `runs`. */
async function openSocket(runs: Record<string, () => Response>) {
  const requests: Request[] = [];
  const fetch = vi.fn(async (input: string | URL | globalThis.Request, init?: RequestInit) => {
    const url = String(input);
    requests.push({ url, init });
    if (url.includes('/v1/sse')) {
      return new Response(new ReadableStream({ start: () => undefined }), {
        headers: { 'content-type': 'text/event-stream' },
      });
    }
    const runId = decodeURIComponent(url.split('/v1/runs/')[1] ?? '');
    const answer = runs[runId];
    if (answer === undefined) throw new Error(`network down for ${runId}`);
    return answer();
  });
  const socket = new SseSocket('ws://edge.test:8080/v1/ws', { EventSource: undefined, fetch });
  const received: string[] = [];
  socket.onmessage = ((event: { data: string }) => received.push(event.data)) as never;
  await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
  socket.send(JSON.stringify({ type: 'hello', token: 'jwt-1' }));
  return { socket, requests, received };
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('SSE transport: sync', () => {
  it('is GET /v1/runs/{runId} with the user token; the 200 body is the snapshot frame', async () => {
    const snapshot = snapshotFrame('running', { answer: { text: 'Hel', chunks: 1 } }, 'run 1/a');
    const { socket, requests, received } = await openSocket({
      'run 1/a': () => Response.json(snapshot),
    });
    socket.send(JSON.stringify({ type: 'sync', runId: 'run 1/a' }));
    await settle();
    const get = requests.find((r) => r.url.includes('/v1/runs/'));
    expect(get?.url).toBe('http://edge.test:8080/v1/runs/run%201%2Fa');
    expect(new Headers(get?.init?.headers).get('authorization')).toBe('Bearer jwt-1');
    expect(received.map((d) => JSON.parse(d) as SnapshotFrame)).toEqual([snapshot]);
    socket.close();
  });

  it('turns a 404 into an unknown snapshot and delivers nothing for other failures', async () => {
    const { socket, received } = await openSocket({
      gone: () => Response.json({ error: 'not_found' }, { status: 404 }),
      busy: () => Response.json({ error: 'unavailable' }, { status: 503 }),
    });
    socket.send(JSON.stringify({ type: 'sync', runId: 'busy' }));
    socket.send(JSON.stringify({ type: 'sync', runId: 'offline' }));
    socket.send(JSON.stringify({ type: 'sync', runId: 'gone' }));
    await settle();
    expect(received.map((d) => JSON.parse(d) as SnapshotFrame)).toEqual([
      { type: 'snapshot', runId: 'gone', status: 'unknown', streams: {} },
    ]);
    socket.close();
  });

  it('asks again, backing off, when the answer is lost or the edge is busy, until one arrives', async () => {
    vi.useFakeTimers();
    try {
      const snapshot = snapshotFrame('ended', { answer: { text: 'Hello', chunks: 2 } }, 'r1');
      const answers: Array<() => Response> = [
        () => {
          throw new Error('connection cut');
        },
        () => Response.json({ error: 'unavailable' }, { status: 503 }),
        () => Response.json(snapshot),
      ];
      let asked = 0;
      const { socket, received } = await openSocket({
        r1: () => (answers[asked++] as () => Response)(),
      });
      socket.send(JSON.stringify({ type: 'sync', runId: 'r1' }));
      await vi.advanceTimersByTimeAsync(0);
      expect(asked).toBe(1);
      await vi.advanceTimersByTimeAsync(250);
      expect(asked).toBe(2);
      // Backing off: the third try comes 500 ms after the second.
      await vi.advanceTimersByTimeAsync(499);
      expect(asked).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(asked).toBe(3);
      expect(received.map((d) => JSON.parse(d) as SnapshotFrame)).toEqual([snapshot]);
      // Answered: no more tries.
      await vi.advanceTimersByTimeAsync(10_000);
      expect(asked).toBe(3);
      socket.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops asking after five tries, and at once when the stream closes', async () => {
    vi.useFakeTimers();
    try {
      let asked = 0;
      const { socket } = await openSocket({
        busy: () => {
          asked++;
          return Response.json({ error: 'unavailable' }, { status: 503 });
        },
      });
      socket.send(JSON.stringify({ type: 'sync', runId: 'busy' }));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(asked).toBe(5);

      socket.send(JSON.stringify({ type: 'sync', runId: 'busy' }));
      await vi.advanceTimersByTimeAsync(0);
      expect(asked).toBe(6);
      socket.close();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(asked).toBe(6);
    } finally {
      vi.useRealTimers();
    }
  });
});
