import { closeCodeForSseStatus, CloseCode, sseStatusForClose } from '@agentwire/protocol';
import { describe, expect, it } from 'vitest';
import { criticalSeq, frameType, sseMessage } from '../src/sse/sse-format.js';
import { parseSsePosition } from '../src/sse/sse-position.js';

describe('sseMessage', () => {
  it('names the frame type, gives critical events id <epoch>:<seq>, reconnect a retry', () => {
    const critical = '{"type":"event","seq":42,"id":"e","critical":true,"name":"x","ts":1}';
    expect(sseMessage(critical, 'k3')).toBe(`event: event\nid: k3:42\ndata: ${critical}\n\n`);
    const live = '{"type":"event","id":"e","critical":false,"name":"t","ts":1}';
    expect(sseMessage(live, 'k3')).toBe(`event: event\ndata: ${live}\n\n`);
    const reconnect = '{"type":"reconnect","afterMs":250}';
    expect(sseMessage(reconnect, 'k3')).toBe(
      `retry: 250\nevent: reconnect\ndata: ${reconnect}\n\n`,
    );
    const snapshot = '{"type":"snapshot","runId":"r7","status":"running","streams":{}}';
    expect(sseMessage(snapshot, 'k3')).toBe(`event: snapshot\ndata: ${snapshot}\n\n`);
  });

  it('reads the type and seq from the fixed prefix, parses anything else', () => {
    expect(frameType('{"type":"welcome","x":1}')).toBe('welcome');
    expect(frameType('{"x":1,"type":"heartbeat"}')).toBe('heartbeat');
    expect(frameType('{"type":"a\\nb"}')).toBe('message');
    expect(frameType('not json')).toBe('message');
    expect(criticalSeq('{"type":"event","seq":7,"id":"a"}')).toBe(7);
    expect(criticalSeq('{"type":"event","id":"\\"seq\\":7"}')).toBe(0);
  });
});

describe('parseSsePosition', () => {
  const q = (s: string) => new URLSearchParams(s);
  it('prefers Last-Event-ID over the query, and refuses malformed positions', () => {
    expect(parseSsePosition('k3x9:41', q('lastSeq=5&epoch=zz'))).toEqual({
      ok: true,
      lastSeq: 41,
      epoch: 'k3x9',
    });
    expect(parseSsePosition('', q('lastSeq=5&epoch=zz'))).toEqual({
      ok: true,
      lastSeq: 5,
      epoch: 'zz',
    });
    expect(parseSsePosition('', q(''))).toEqual({ ok: true });
    for (const id of ['k3', ':1', 'k3:', 'k3:-1', 'k 3:1', 'k3:1e3', 'k3:99999999999999999']) {
      expect(parseSsePosition(id, q('')).ok, id).toBe(false);
    }
    for (const query of ['lastSeq=', 'lastSeq=-1', 'epoch=k3', 'lastSeq=1&epoch=', 'lastSeq=1.5']) {
      expect(parseSsePosition('', q(query)).ok, query).toBe(false);
    }
  });
});

describe('SSE status mapping', () => {
  it('maps refusals both ways so both transports reconnect by the same rules', () => {
    for (const code of [CloseCode.Unauthorized, CloseCode.ProtocolError, CloseCode.LimitReached]) {
      expect(closeCodeForSseStatus(sseStatusForClose(code))).toBe(code);
    }
    expect(sseStatusForClose(1011)).toBe(503);
    expect(closeCodeForSseStatus(503)).toBe(1011);
  });
});
