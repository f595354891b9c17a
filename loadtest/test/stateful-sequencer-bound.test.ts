import { createKeyLayout, type IngestEntry } from '@agentwire/redis';
import { describe, expect, it } from 'vitest';
import { boundCall, type SequencerMemory } from '../src/stateful-sequencer-bound.js';

const keys = createKeyLayout('t', 16);

function critical(id: string, userId: string): IngestEntry {
  return {
    id,
    userId,
    critical: true,
    body: `"id":"${id}","critical":true,"name":"n","ts":1}`,
    run: { runId: 'r', kind: 'event' },
  };
}

const options = {
  keys,
  inbox: 'inbox:edge',
  leaseKeys: ['lease-a'],
  group: 'g',
  consumer: 'c',
  dedupeMs: 1000,
  retentionMax: 50,
  runId: 'r',
  now: 1234,
};

describe('boundCall', () => {
  it('numbers each user on from its memory and writes a dedupe key and a log entry per event', () => {
    const memory: SequencerMemory = new Map([['a', 7]]);
    const call = boundCall(
      [critical('e1', 'a'), critical('e2', 'b'), critical('e3', 'a')],
      memory,
      options,
    );
    expect(memory).toEqual(
      new Map([
        ['a', 9],
        ['b', 1],
      ]),
    );
    const logs = call.writes.filter(([name, key]) => name === 'XADD' && key !== 'inbox:edge');
    expect(logs.map(([, key, , , id]) => [key, id])).toEqual([
      [keys.userLog('a'), '8-0'],
      [keys.userLog('b'), '1-0'],
      [keys.userLog('a'), '9-0'],
    ]);
    const dedupe = call.writes.filter(([name]) => name === 'SET');
    expect(dedupe.map(([, key, seq]) => [key, seq])).toEqual([
      [`${keys.shardBase(keys.shardOf('a'))}d:a:e1`, '8'],
      [`${keys.shardBase(keys.shardOf('b'))}d:b:e2`, '1'],
      [`${keys.shardBase(keys.shardOf('a'))}d:a:e3`, '9'],
    ]);
  });

  it('writes each user once, one inbox entry per call, and fences on the leases and routes it read', () => {
    const call = boundCall([critical('e1', 'a'), critical('e2', 'a')], new Map(), options);
    expect(call.writes.filter(([, key]) => key === keys.userMeta('a'))).toEqual([
      ['HSET', keys.userMeta('a'), 'seq', '2'],
    ]);
    const inbox = call.writes.filter(([, key]) => key === 'inbox:edge');
    expect(inbox).toHaveLength(1);
    expect(inbox[0]?.at(-1)).toBe(
      '{"type":"event","seq":1,"id":"e1","critical":true,"name":"n","ts":1}\n' +
        '{"type":"event","seq":2,"id":"e2","critical":true,"name":"n","ts":1}',
    );
    expect(call.reads).toContainEqual(['HKEYS', keys.userRoutes('a')]);
    expect(call.reads.filter(([name]) => name === 'XREADGROUP')).toHaveLength(1);
    expect(call.watch).toEqual(['lease-a', keys.userRoutes('a')]);
  });
});
