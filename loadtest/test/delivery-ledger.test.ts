import { describe, expect, it } from 'vitest';
import { aggregateDelivery, DeliveryLedger, hasProblem } from '../src/delivery-ledger.js';

function ledgerWith(base: number, seqs: number[]): DeliveryLedger {
  const ledger = new DeliveryLedger();
  ledger.onNewSocket();
  ledger.onWelcome(base);
  for (const seq of seqs) ledger.onCritical(seq);
  return ledger;
}

describe('DeliveryLedger', () => {
  it('counts a complete in-order delivery with no problem', () => {
    const counts = ledgerWith(10, [11, 12, 13]).counts(3);
    expect(counts).toMatchObject({
      expected: 3,
      delivered: 3,
      lost: 0,
      duplicates: 0,
      outOfOrder: 0,
      unexpected: 0,
    });
    expect(hasProblem(counts)).toBe(false);
  });

  it('counts gaps and a missing tail as lost', () => {
    const ledger = ledgerWith(0, [1, 3]);
    expect(ledger.counts(4)).toMatchObject({ delivered: 2, lost: 2 });
    expect(ledger.contiguousSeq()).toBe(1);
    expect(hasProblem(ledger.counts(4))).toBe(true);
  });

  it('counts the same seq twice on one socket as a duplicate, and delivered once', () => {
    const ledger = new DeliveryLedger();
    ledger.onNewSocket();
    ledger.onWelcome(0);
    expect(ledger.onCritical(1)).toBe('new');
    expect(ledger.onCritical(1)).toBe('duplicate');
    expect(ledger.counts(1)).toMatchObject({ delivered: 1, lost: 0, duplicates: 1 });
  });

  it('treats a replay after a reconnect as redelivery, not a duplicate', () => {
    const ledger = ledgerWith(0, [1, 2, 3]);
    ledger.onNewSocket(1);
    ledger.onWelcome(99); // a later welcome must not move the base
    expect(ledger.onCritical(2)).toBe('redelivered');
    expect(ledger.onCritical(3)).toBe('redelivered');
    expect(ledger.onCritical(4)).toBe('new');
    const counts = ledger.counts(4);
    expect(counts).toMatchObject({ delivered: 4, lost: 0, duplicates: 0, redelivered: 2 });
    expect(hasProblem(counts)).toBe(false);
  });

  it('takes the hello position as the base when the first socket resumes', () => {
    const ledger = new DeliveryLedger();
    ledger.onNewSocket(0); // replay everything retained
    ledger.onWelcome(10);
    expect(ledger.contiguousSeq()).toBe(0);
    for (let seq = 1; seq <= 9; seq++) ledger.onCritical(seq);
    expect(ledger.counts(10)).toMatchObject({ delivered: 9, lost: 1 });
    ledger.onCritical(10);
    expect(ledger.contiguousSeq()).toBe(10);
    expect(hasProblem(ledger.counts(10))).toBe(false);
  });

  it('counts a lower seq after a higher one on the same socket as out of order', () => {
    const counts = ledgerWith(0, [2, 1, 3]).counts(3);
    expect(counts).toMatchObject({ delivered: 3, lost: 0, outOfOrder: 1 });
    expect(hasProblem(counts)).toBe(true);
  });

  it('counts seqs beyond what was published as unexpected', () => {
    const counts = ledgerWith(5, [6, 7, 8]).counts(2);
    expect(counts).toMatchObject({ delivered: 2, lost: 0, unexpected: 1 });
  });

  it('counts foreign events as an isolation breach', () => {
    const ledger = ledgerWith(0, [1]);
    ledger.onForeign();
    expect(ledger.counts(1).foreign).toBe(1);
    expect(hasProblem(ledger.counts(1))).toBe(true);
  });

  it('never acks above what the current socket was sent or resumed from', () => {
    const ledger = ledgerWith(0, [1, 2, 4, 5]);
    expect(ledger.ackableSeq()).toBe(2);
    ledger.onNewSocket(2); // resume from 2: the replay starts at 3
    ledger.onCritical(3); // the gap is filled: contiguous jumps to 5 ...
    expect(ledger.contiguousSeq()).toBe(5);
    expect(ledger.ackableSeq()).toBe(3); // ... but this socket has only been sent 3
    ledger.onCritical(4);
    ledger.onCritical(5);
    expect(ledger.ackableSeq()).toBe(5);
  });
});

describe('aggregateDelivery', () => {
  it('sums per user and overall and counts users with problems', () => {
    const good = ledgerWith(0, [1, 2]).counts(2);
    const lossy = ledgerWith(0, [1]).counts(2);
    const { totals, perUser } = aggregateDelivery([
      { userId: 'a', counts: good },
      { userId: 'a', counts: lossy },
      { userId: 'b', counts: good },
    ]);
    expect(perUser).toHaveLength(2);
    expect(perUser.find((user) => user.userId === 'a')).toMatchObject({
      clients: 2,
      expected: 4,
      delivered: 3,
      lost: 1,
    });
    expect(totals).toMatchObject({
      users: 2,
      clients: 3,
      expected: 6,
      delivered: 5,
      lost: 1,
      usersWithProblems: 1,
    });
  });
});
