import { describe, expect, it } from 'vitest';
import { appendTextOf } from '../src/fleet-events.js';
import {
  NonCriticalLedger,
  nonCriticalFailures,
  sumNonCritical,
} from '../src/non-critical-ledger.js';

const id = (n: number): string => `fl-tag-${n.toString(36)}`;
const append = (n: number, chunk: number, text = appendTextOf(n)) => ({
  type: 'event',
  id: id(n),
  critical: false,
  runId: 'r1',
  stream: 'answer',
  chunk,
  append: text,
  data: { user: 'u1' },
});

describe('NonCriticalLedger', () => {
  it('puts appends together in chunk order and checks each text against its id', () => {
    const ledger = new NonCriticalLedger();
    expect(ledger.onEvent(append(7, 1), 'u1')).toBe(true);
    expect(ledger.onEvent(append(3, 2), 'u1')).toBe(true);
    expect(ledger.onEvent(append(3, 2), 'u1')).toBe(false);
    expect(ledger.onEvent(append(9, 3, 'not sent'), 'u1')).toBe(true);
    expect(ledger.textOf('r1', 'answer')).toEqual({
      text: appendTextOf(7) + appendTextOf(3) + 'not sent',
      chunks: 3,
    });
    expect(ledger.counts(3)).toMatchObject({
      delivered: 3,
      lost: 0,
      duplicates: 1,
      live: 3,
      wrongText: 1,
      gaps: 0,
    });
  });

  it('counts skipped chunks, and chunks a snapshot brought instead of live appends', () => {
    const ledger = new NonCriticalLedger();
    ledger.onEvent(append(1, 1), 'u1');
    ledger.onEvent(append(4, 4), 'u1');
    expect(ledger.counts(6)).toMatchObject({ gaps: 2, delivered: 4, lost: 2 });

    const covered = new NonCriticalLedger();
    covered.onEvent(append(1, 1), 'u1');
    covered.onSnapshot({
      type: 'snapshot',
      runId: 'r1',
      streams: { answer: { text: 'abcde', chunks: 5 } },
    });
    covered.onSnapshot({
      type: 'snapshot',
      runId: 'r1',
      streams: { answer: { text: 'ab', chunks: 2 } },
    });
    covered.onEvent(append(6, 6), 'u1');
    expect(covered.textOf('r1', 'answer')).toEqual({ text: 'abcde' + appendTextOf(6), chunks: 6 });
    expect(covered.counts(6)).toMatchObject({
      live: 2,
      bySnapshot: 4,
      snapshots: 2,
      gaps: 0,
      lost: 0,
    });
  });

  it("counts plain events by id, and another user's events as foreign", () => {
    const ledger = new NonCriticalLedger();
    const plain = (n: number, user = 'u1') => ({ type: 'event', id: id(n), data: { user } });
    expect(ledger.onEvent(plain(1), 'u1')).toBe(true);
    expect(ledger.onEvent(plain(1), 'u1')).toBe(false);
    expect(ledger.onEvent(plain(2, 'u2'), 'u1')).toBe(false);
    expect(ledger.counts(3)).toMatchObject({ delivered: 1, lost: 2, duplicates: 1, foreign: 1 });
    expect(ledger.counts(0)).toMatchObject({ unexpected: 1 });
  });
});

describe('non-critical totals', () => {
  it('sum the clients and fail on anything but every event live and exact', () => {
    const clean = new NonCriticalLedger();
    clean.onEvent(append(1, 1), 'u1');
    const covered = new NonCriticalLedger();
    covered.onSnapshot({
      type: 'snapshot',
      runId: 'r1',
      streams: { answer: { text: 'x', chunks: 1 } },
    });
    const ok = sumNonCritical([clean.counts(1)]);
    expect(ok).toMatchObject({ clients: 1, expected: 1, delivered: 1, live: 1 });
    expect(nonCriticalFailures(ok)).toEqual([]);
    const totals = sumNonCritical([clean.counts(1), covered.counts(1)], 1, 0);
    expect(totals).toMatchObject({ clients: 2, delivered: 2, bySnapshot: 1, textMismatches: 1 });
    expect(nonCriticalFailures(totals)).toEqual([
      '1 appends dropped and covered by a snapshot',
      "1 clients' texts differ from the server's",
    ]);
  });
});
