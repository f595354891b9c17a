import { CloseCode } from '@agentwire/protocol';
import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { SSE_CLIENT_GONE, SseSink } from '../src/sse/sse-sink.js';

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A recording stand-in for a uWS HttpResponse: `accept` decides what write()
 * reports; `corks` holds the byte length of each write, per cork.
 */
class FakeResponse {
  status = '';
  headers: Array<[string, string]> = [];
  bytes: Buffer[] = [];
  corks: number[][] = [];
  ended: { body: string; close: boolean } | undefined;
  closed = false;
  accept = true;
  aborted: (() => void) | undefined;
  writable: (() => boolean) | undefined;

  writeStatus(status: string): this {
    this.status = status;
    return this;
  }
  writeHeader(name: string, value: string): this {
    this.headers.push([name, value]);
    return this;
  }
  get body(): string {
    return Buffer.concat(this.bytes).toString('utf8');
  }
  write(data: string | Uint8Array): boolean {
    const bytes = Buffer.from(data);
    this.bytes.push(bytes);
    this.corks.at(-1)?.push(bytes.length);
    return this.accept;
  }
  end(body = '', close = false): this {
    this.ended = { body, close };
    return this;
  }
  close(): this {
    this.closed = true;
    this.aborted?.();
    return this;
  }
  cork(cb: () => void): this {
    this.corks.push([]);
    cb();
    return this;
  }
  onAborted(cb: () => void): this {
    this.aborted = cb;
    return this;
  }
  onWritable(cb: () => boolean): this {
    this.writable = cb;
    return this;
  }
}

function sink(maxBufferedBytes = 1000) {
  const res = new FakeResponse();
  const closes: number[] = [];
  let drains = 0;
  const s = new SseSink(res as unknown as HttpResponse, {
    headers: { 'access-control-allow-origin': 'https://app.example' },
    maxBufferedBytes,
    owner: { epoch: 'k3', onDrain: () => drains++ },
    onClosed: (code) => closes.push(code),
  });
  return { res, s, closes, drains: () => drains };
}

describe('SseSink', () => {
  it('sends status and headers with the first message, then one SSE message per frame', () => {
    const { res, s } = sink();
    expect(s.send('{"type":"welcome","epoch":"k3"}')).toBe(1);
    expect(s.send('{"type":"event","seq":5,"id":"e"}')).toBe(1);
    expect(res.status).toBe('200 OK');
    expect(res.headers).toContainEqual(['content-type', 'text/event-stream; charset=utf-8']);
    expect(res.headers).toContainEqual(['access-control-allow-origin', 'https://app.example']);
    expect(res.body).toBe(
      'event: welcome\ndata: {"type":"welcome","epoch":"k3"}\n\n' +
        'event: event\nid: k3:5\ndata: {"type":"event","seq":5,"id":"e"}\n\n',
    );
  });

  it('answers an HTTP status when ended before its first message', () => {
    const { res, s, closes } = sink();
    s.end(CloseCode.LimitReached, 'too many connections');
    expect(res.status).toBe('429 Too Many Requests');
    expect(JSON.parse(res.ended?.body ?? '')).toEqual({
      error: 'limit_reached',
      message: 'too many connections',
    });
    expect(closes).toEqual([CloseCode.LimitReached]);
    expect(s.send('{"type":"welcome"}')).toBe(2);
  });

  it('counts bytes uWS holds until a flush is accepted, then reports the drain', () => {
    const { res, s, drains } = sink(100);
    s.send('{"type":"welcome"}');
    res.accept = false;
    expect(s.send('{"type":"heartbeat","ts":1}')).toBe(0);
    const held = s.getBufferedAmount();
    expect(held).toBeGreaterThan(0);
    s.send('{"type":"heartbeat","ts":2}');
    expect(s.getBufferedAmount()).toBeGreaterThan(held);
    // Still backed up: the flush comment is not accepted either.
    expect(res.writable?.()).toBe(false);
    expect(drains()).toBe(0);
    res.accept = true;
    expect(res.writable?.()).toBe(true);
    expect(s.getBufferedAmount()).toBe(0);
    expect(drains()).toBe(1);
    expect(res.body.endsWith(':\n\n')).toBe(true);
  });

  it('drops sends past the limit, and closes a slow consumer without waiting', () => {
    const { res, s, closes } = sink(10);
    s.send('{"type":"welcome"}');
    res.accept = false;
    s.send('{"type":"heartbeat","ts":1}');
    expect(s.send('{"type":"heartbeat","ts":2}')).toBe(2);
    s.end(CloseCode.SlowConsumer, 'slow');
    expect(res.closed).toBe(true);
    expect(closes).toEqual([CloseCode.SlowConsumer]);
  });

  it('ends the stream after a reconnect frame, with retry: afterMs', () => {
    const { res, s, closes } = sink();
    s.send('{"type":"welcome"}');
    s.send('{"type":"reconnect","afterMs":1200}');
    expect(res.body).toContain('retry: 1200\nevent: reconnect\n');
    expect(res.ended).toEqual({ body: '', close: true });
    expect(closes).toEqual([CloseCode.Draining]);
    s.end(CloseCode.Draining, 'node draining');
    expect(closes).toHaveLength(1);
  });

  it('writes what a cork batched in pieces that fit the uWS cork buffer, one cork each', () => {
    const { res, s } = sink(1e9);
    s.send('{"type":"welcome"}');
    res.corks = [];
    // Three-byte characters, so that pieces end inside characters.
    const frames = range(1, 12).map(
      (seq) => `{"type":"event","seq":${seq},"text":"${'€'.repeat(1_500)}"}`,
    );
    s.cork(() => frames.forEach((frame) => s.send(frame)));
    expect(res.corks.length).toBeGreaterThan(3);
    for (const writes of res.corks) {
      expect(writes).toHaveLength(1);
      expect(writes[0]).toBeLessThanOrEqual(16 * 1024 - 64);
    }
    const body = res.body;
    for (const frame of frames) expect(body).toContain(`data: ${frame}\n\n`);
    expect(body).not.toContain('\uFFFD');
  });

  it('flushes whenever uWS reports the socket writable, even with nothing counted as held', () => {
    const { res, s, drains } = sink();
    s.send('{"type":"welcome"}');
    expect(s.getBufferedAmount()).toBe(0);
    // A cork's end can leave bytes in uWS that no write reported: it calls onWritable.
    expect(res.writable?.()).toBe(true);
    expect(res.body.endsWith(':\n\n')).toBe(true);
    expect(drains()).toBe(1);
  });

  it('ends after a batched reconnect frame once the batch is written', () => {
    const { res, s, closes } = sink();
    s.send('{"type":"welcome"}');
    s.cork(() => {
      s.send('{"type":"event","seq":1}');
      s.send('{"type":"reconnect","afterMs":300}');
    });
    expect(res.body).toContain('id: k3:1\n');
    expect(res.body).toContain('retry: 300\nevent: reconnect\n');
    expect(res.ended).toEqual({ body: '', close: true });
    expect(closes).toEqual([CloseCode.Draining]);
  });

  it('reports a client that went away once', () => {
    const { res, s, closes } = sink();
    s.send('{"type":"welcome"}');
    res.aborted?.();
    s.end(CloseCode.Normal);
    expect(closes).toEqual([SSE_CLIENT_GONE]);
  });
});
