import { describe, expect, it } from 'vitest';
import { ShardHistoryMemory } from '../src/history-memory.js';

describe('ShardHistoryMemory', () => {
  it('knows no mark for a shard it never wrote', () => {
    const memory = new ShardHistoryMemory();
    expect(memory.expectedMark(3)).toBeUndefined();
    expect(memory.lostUsers(3, 0)).toEqual([]);
  });

  it('names the users whose last append came after the surviving mark', () => {
    const memory = new ShardHistoryMemory();
    memory.recordBatch(1, 10, ['a', 'b']);
    memory.recordBatch(1, 11, ['c']);
    memory.recordBatch(1, 12, ['a']);
    expect(memory.expectedMark(1)).toBe(12);
    // Batches 11 and 12 were lost: c and a (a's last append was in 12), not b.
    expect(memory.lostUsers(1, 10)).toEqual(expect.arrayContaining(['a', 'c']));
    expect(memory.lostUsers(1, 10)).toHaveLength(2);
    expect(memory.lostUsers(1, 12)).toEqual([]);
  });

  it('continues from the surviving mark after a loss', () => {
    const memory = new ShardHistoryMemory();
    memory.recordBatch(2, 5, ['a']);
    memory.recordBatch(2, 6, ['b']);
    memory.resetTo(2, 5);
    expect(memory.expectedMark(2)).toBe(5);
    expect(memory.lostUsers(2, 4)).toEqual(['a']);
  });

  it('answers "all" when a user it forgot may have lost writes (bounded memory)', () => {
    const memory = new ShardHistoryMemory();
    for (let i = 0; i < 10_001; i++) memory.recordBatch(0, i + 1, [`u${i}`]);
    // u0 (mark 1) was forgotten; a loss back to mark 0 may include it.
    expect(memory.lostUsers(0, 0)).toBe('all');
    expect(memory.lostUsers(0, 10_000)).toEqual(['u10000']);
  });
});
