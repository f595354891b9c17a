import type { InboxAppend } from '@agentwire/redis';
import { Registry } from '@agentwire/telemetry';
import { describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../src/connection-registry.js';
import { createInboxDispatcher, ingestTs, type InboxStreamEntry } from '../src/inbox-dispatcher.js';
import { createEdgeMetrics } from '../src/metrics.js';
import type { Connection } from '../src/ws/connection.js';

describe('ingestTs', () => {
  it('reads the top-level ts without parsing', () => {
    const frame =
      '{"type":"event","seq":3,"id":"a","critical":true,"name":"n","ts":1764150000123,"data":{"ts":5}}';
    expect(ingestTs(frame)).toBe(1764150000123);
  });

  it('is not fooled by "ts" inside string values', () => {
    const frame = `{"type":"event","id":${JSON.stringify('x"ts":1')},"name":"ts","ts":42,"data":null}`;
    expect(ingestTs(frame)).toBe(42);
  });

  it('answers 0 when there is no ts', () => {
    expect(ingestTs('{"type":"event"}')).toBe(0);
  });
});

describe('createInboxDispatcher', () => {
  /** Records offers the way a Connection receives them. */
  const recorder = () => {
    const offers: Array<[number, string, string]> = [];
    const appends: Array<InboxAppend | undefined> = [];
    let flushes = 0;
    const conn = {
      offer(
        seq: number,
        frame: string,
        epoch: string,
        _now: number,
        dirty: Connection[],
        append?: InboxAppend,
      ) {
        if (offers.length === 0) dirty.push(conn as unknown as Connection);
        offers.push([seq, frame, epoch]);
        appends.push(append);
      },
      flushOutbox() {
        flushes++;
      },
    };
    return { conn: conn as unknown as Connection, offers, appends, flushes: () => flushes };
  };

  it('passes an append’s run, stream and chunk, in the written order and by name', () => {
    const registry = new ConnectionRegistry<Connection>();
    const a = recorder();
    registry.add('u1', a.conn);
    const dispatch = createInboxDispatcher(registry, createEdgeMetrics(new Registry()));
    dispatch([
      ['1-0', ['u', 'u1', 's', '0', 'f', 'A', 'e', 'ep', 'r', 'r7', 'n', 'answer', 'k', '12']],
      ['1-1', ['k', '13', 'u', 'u1', 's', '0', 'f', 'B', 'n', 'answer', 'r', 'r7']],
      ['1-2', ['u', 'u1', 's', '0', 'f', 'C', 'e', 'ep']],
    ]);
    expect(a.appends).toEqual([
      { runId: 'r7', stream: 'answer', chunk: 12 },
      { runId: 'r7', stream: 'answer', chunk: 13 },
      undefined,
    ]);
  });

  it('hands entries to the connections of their user only, and flushes once per batch', () => {
    const registry = new ConnectionRegistry<Connection>();
    const a = recorder();
    const b = recorder();
    registry.add('u1', a.conn);
    registry.add('u2', b.conn);
    const dispatch = createInboxDispatcher(registry, createEdgeMetrics(new Registry()));
    const entries: InboxStreamEntry[] = [
      [`${Date.now()}-0`, ['u', 'u1', 's', '1', 'f', 'F1', 'e', 'ep']],
      [`${Date.now()}-1`, ['u', 'u3', 's', '1', 'f', 'F3', 'e', 'ep']],
      // Fields in another order still parse (by name).
      [`${Date.now()}-2`, ['f', 'F2', 'u', 'u1', 'e', 'ep', 's', '0']],
      [`${Date.now()}-3`, ['u', 'u2', 's', '7', 'f', 'F7', 'e', 'ep']],
    ];
    dispatch(entries);
    expect(a.offers).toEqual([
      [1, 'F1', 'ep'],
      [0, 'F2', 'ep'],
    ]);
    expect(b.offers).toEqual([[7, 'F7', 'ep']]);
    expect(a.flushes()).toBe(1);
    expect(b.flushes()).toBe(1);
  });

  it('reads every event of an entry that holds several, in order (the buffer writes one per call)', () => {
    const registry = new ConnectionRegistry<Connection>();
    const a = recorder();
    const b = recorder();
    registry.add('u1', a.conn);
    registry.add('u2', b.conn);
    const dispatch = createInboxDispatcher(registry, createEdgeMetrics(new Registry()));
    dispatch([
      [
        '1-0',
        [
          ...['u', 'u1', 's', '4', 'f', 'F4', 'e', 'ep'],
          ...['u', 'u2', 's', '0', 'f', 'A', 'e', 'ep', 'r', 'r7', 'n', 'answer', 'k', '3'],
          // By name in another order, and a field this reader does not know.
          ...['f', 'F5', 'x', '?', 'u', 'u1', 'e', 'ep', 's', '5'],
          ...['u', 'u1', 's', '6', 'f', 'F6', 'e', 'ep'],
        ],
      ],
    ]);
    expect(a.offers).toEqual([
      [4, 'F4', 'ep'],
      [5, 'F5', 'ep'],
      [6, 'F6', 'ep'],
    ]);
    expect(b.offers).toEqual([[0, 'A', 'ep']]);
    expect(b.appends).toEqual([{ runId: 'r7', stream: 'answer', chunk: 3 }]);
    expect(a.flushes()).toBe(1);
  });

  it('skips entries without a user or frame', () => {
    const registry = new ConnectionRegistry<Connection>();
    const a = recorder();
    registry.add('u1', a.conn);
    const dispatch = createInboxDispatcher(registry, createEdgeMetrics(new Registry()));
    dispatch([['1-0', ['s', '1', 'e', 'ep']]]);
    expect(a.offers).toEqual([]);
  });
});
