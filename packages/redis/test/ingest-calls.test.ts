import { describe, expect, it } from 'vitest';
import { createKeyLayout } from '../src/key-layout.js';
import { IngestCallLimits, planIngestCalls, type IngestEntry } from '../src/ingest-stream.js';

const keys = createKeyLayout('t', 16);

/** The stream parts of one call as append-ingest-1.lua reads them: stream, then its entries as stored. */
function partsOf(call: string[]): Array<{ stream: string; entries: string[][] }> {
  const names = call.slice(2, 2 + Number(call[1]));
  const parts: Array<{ stream: string; entries: string[][] }> = [];
  let i = 2 + names.length;
  while (i < call.length) {
    const stream = call[i] as string;
    const count = Number(call[i + 1]);
    expect(count).toBeGreaterThan(0);
    i += 2;
    const entries: string[][] = [];
    for (let e = 0; e < count; e++) {
      const values = Number(call[i]);
      expect(values).toBeGreaterThan(0);
      expect(values).toBeLessThanOrEqual(names.length);
      entries.push(
        call.slice(i + 1, i + 1 + values).flatMap((value, j) => [names[j] as string, value]),
      );
      i += values + 1;
    }
    parts.push({ stream, entries });
  }
  expect(i).toBe(call.length);
  expect(parts[0]?.stream).toBe(call[0]);
  return parts;
}

/** The entries of a one-shard call. */
function entriesOf(call: string[]): string[][] {
  const parts = partsOf(call);
  expect(parts).toHaveLength(1);
  return parts[0]?.entries ?? [];
}

function event(userId: string, n: number, body = `"n":${n}}`): IngestEntry {
  return { id: `${userId}-${n}`, userId, critical: false, body };
}

describe('planIngestCalls', () => {
  it('gives each entry the fields and values XADD per event stored', () => {
    const events: IngestEntry[] = [
      { id: 'a', userId: 'u', critical: true, body: 'b1' },
      { id: 'b', userId: 'u', critical: false, body: 'b2', run: { runId: 'r', kind: 'event' } },
      { id: 'c', userId: 'u', critical: true, body: 'b3', run: { runId: 'r', kind: 'end' } },
      {
        id: 'd',
        userId: 'u',
        critical: false,
        body: 'b4',
        run: { runId: 'r', kind: 'append', stream: 's', text: '' },
      },
    ];
    const plan = planIngestCalls(keys, events);
    expect(plan).toHaveLength(1);
    const [call] = plan[0] as string[][];
    expect(call?.[0]).toBe(keys.ingest(keys.shardOf('u')));
    expect(entriesOf(call as string[])).toEqual([
      ['i', 'a', 'u', 'u', 'c', '1', 'b', 'b1'],
      ['i', 'b', 'u', 'u', 'c', '0', 'b', 'b2', 'r', 'r'],
      ['i', 'c', 'u', 'u', 'c', '1', 'b', 'b3', 'r', 'r', 'k', 'e'],
      ['i', 'd', 'u', 'u', 'c', '0', 'b', 'b4', 'r', 'r', 'k', 'a', 'n', 's', 'a', ''],
    ]);
  });

  it('makes one call per shard holding its entries in input order', () => {
    const users = Array.from({ length: 40 }, (_, n) => `user-${n}`);
    const events = Array.from({ length: 200 }, (_, n) => event(users[(n * 7) % 40] as string, n));
    const plan = planIngestCalls(keys, events);
    const shards = new Set(users.map((user) => keys.shardOf(user)));
    expect(plan).toHaveLength(shards.size);
    for (const calls of plan) {
      expect(calls).toHaveLength(1);
      const call = calls[0] as string[];
      const ids = entriesOf(call).map((fields) => fields[1]);
      const expected = events.filter((e) => keys.ingest(keys.shardOf(e.userId)) === call[0]);
      expect(ids).toEqual(expected.map((e) => e.id));
    }
  });

  it('splits a shard part over the entry bound, in order', () => {
    const events = Array.from({ length: 2 * IngestCallLimits.entries + 5 }, (_, n) =>
      event('one', n),
    );
    const [calls] = planIngestCalls(keys, events);
    expect(calls?.map((call) => entriesOf(call).length)).toEqual([
      IngestCallLimits.entries,
      IngestCallLimits.entries,
      5,
    ]);
    const ids = calls?.flatMap((call) => entriesOf(call).map((fields) => fields[1]));
    expect(ids).toEqual(events.map((e) => e.id));
  });

  it('splits a shard part over the character bound; an entry over it alone', () => {
    const quarter = 'x'.repeat(IngestCallLimits.chars / 4);
    const text = 'y'.repeat(IngestCallLimits.chars / 4);
    const events: IngestEntry[] = [
      event('one', 0, quarter),
      event('one', 1, quarter),
      event('one', 2, quarter),
      // Its text counts too: this one does not fit beside the first three.
      {
        ...event('one', 3, 'z'),
        run: { runId: 'r', kind: 'append', stream: 's', text },
      },
      event('one', 4, 'x'.repeat(IngestCallLimits.chars + 1)),
      event('one', 5),
    ];
    const [calls] = planIngestCalls(keys, events);
    expect(calls?.map((call) => entriesOf(call).map((fields) => fields[1]))).toEqual([
      ['one-0', 'one-1', 'one-2'],
      ['one-3'],
      ['one-4'],
      ['one-5'],
    ]);
  });

  it('puts every shard in one call on a single Redis, each part in input order', () => {
    const users = Array.from({ length: 40 }, (_, n) => `user-${n}`);
    const events = Array.from({ length: 200 }, (_, n) => event(users[(n * 7) % 40] as string, n));
    const plan = planIngestCalls(keys, events, true);
    expect(plan).toHaveLength(1);
    expect(plan[0]).toHaveLength(1);
    const parts = partsOf((plan[0] as string[][])[0] as string[]);
    const shards = new Set(users.map((user) => keys.ingest(keys.shardOf(user))));
    expect(new Set(parts.map((part) => part.stream))).toEqual(shards);
    expect(parts).toHaveLength(shards.size);
    for (const { stream, entries } of parts) {
      const expected = events.filter((e) => keys.ingest(keys.shardOf(e.userId)) === stream);
      expect(entries.map((fields) => fields[1])).toEqual(expected.map((e) => e.id));
    }
  });

  it('on a single Redis, goes on with a part cut by the bound in the next call', () => {
    const [a, b] = ['user-1', 'user-2'];
    expect(keys.shardOf(a as string)).not.toBe(keys.shardOf(b as string));
    const events = [
      ...Array.from({ length: IngestCallLimits.entries - 2 }, (_, n) => event(a as string, n)),
      ...Array.from({ length: 5 }, (_, n) => event(b as string, n)),
    ];
    const plan = planIngestCalls(keys, events, true);
    expect(plan).toHaveLength(1);
    const calls = (plan[0] as string[][]).map((call) =>
      partsOf(call).map((part) => [part.stream, part.entries.length]),
    );
    const [streamA, streamB] = [a, b].map((user) => keys.ingest(keys.shardOf(user as string)));
    expect(calls).toEqual([
      [
        [streamA, IngestCallLimits.entries - 2],
        [streamB, 2],
      ],
      [[streamB, 3]],
    ]);
  });
});
