import { describe, expect, it } from 'vitest';
import { createKeyLayout } from '../src/key-layout.js';
import { IngestCallLimits, planIngestCalls, type IngestEntry } from '../src/ingest-stream.js';

const keys = createKeyLayout('t', 16);

/** The entries of one call as append-ingest-1.lua stores them: field names from the header, values per entry. */
function entriesOf(call: string[]): string[][] {
  const names = call.slice(2, 2 + Number(call[1]));
  const entries: string[][] = [];
  let i = 2 + names.length;
  while (i < call.length) {
    const count = Number(call[i]);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThanOrEqual(names.length);
    entries.push(
      call.slice(i + 1, i + 1 + count).flatMap((value, j) => [names[j] as string, value]),
    );
    i += count + 1;
  }
  expect(i).toBe(call.length);
  return entries;
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
});
