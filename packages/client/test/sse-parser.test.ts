import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sseEndpoints } from '../src/sse-endpoints.js';
import { SseParser, type SseMessage } from '../src/sse-parser.js';

function parseAll(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const parser = new SseParser((m) => out.push(m));
  for (const chunk of chunks) parser.feed(chunk);
  return out;
}

const STREAM =
  ': comment\n\nevent: welcome\ndata: {"type":"welcome"}\n\n' +
  'event: event\r\nid: k3:1\r\ndata: {"type":"event","seq":1}\r\n\r\n' +
  'retry: 200\revent: reconnect\rdata: {"afterMs":200}\r\r' +
  'data: a\ndata:b\n\nevent: empty\n\n';

describe('SseParser', () => {
  it('reads events, ids, comments, CR/LF/CRLF line ends and multi-line data', () => {
    expect(parseAll([STREAM])).toEqual([
      { event: 'welcome', data: '{"type":"welcome"}', id: undefined },
      { event: 'event', data: '{"type":"event","seq":1}', id: 'k3:1' },
      { event: 'reconnect', data: '{"afterMs":200}', id: 'k3:1' },
      { event: 'message', data: 'a\nb', id: 'k3:1' },
    ]);
  });

  it('gives the same messages however the stream is split into chunks', () => {
    const whole = parseAll([STREAM]);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: STREAM.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let from = 0;
        for (const point of points) {
          chunks.push(STREAM.slice(from, point));
          from = point;
        }
        chunks.push(STREAM.slice(from));
        expect(parseAll(chunks)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});

describe('sseEndpoints', () => {
  it('derives the HTTP endpoints from a WebSocket URL or an http(s) base', () => {
    expect(sseEndpoints('wss://events.example.com/v1/ws')).toEqual({
      stream: 'https://events.example.com/v1/sse',
      ack: 'https://events.example.com/v1/ack',
      publish: 'https://events.example.com/v1/publish',
      runs: 'https://events.example.com/v1/runs/',
    });
    expect(sseEndpoints('ws://127.0.0.1:8080/v1/ws').stream).toBe('http://127.0.0.1:8080/v1/sse');
    expect(sseEndpoints('https://h.example/prefix/').ack).toBe('https://h.example/prefix/v1/ack');
    expect(sseEndpoints('http://h.example/v1/sse?x=1').publish).toBe('http://h.example/v1/publish');
    expect(sseEndpoints('https://h.example/prefix/').runs).toBe(
      'https://h.example/prefix/v1/runs/',
    );
  });
});
