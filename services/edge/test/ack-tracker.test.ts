import { describe, expect, it } from 'vitest';
import { AckTracker } from '../src/ws/ack-tracker.js';

describe('AckTracker', () => {
  it('confirms every tracked seq up to a cumulative ack, with latencies', () => {
    const tracker = new AckTracker(16);
    tracker.recordSent(1, 100);
    tracker.recordSent(2, 110);
    tracker.recordSent(3, 120);
    const latencies: number[] = [];
    expect(tracker.ack(2, 150, (ms) => latencies.push(ms))).toBe(2);
    expect(latencies).toEqual([50, 40]);
    expect(tracker.pending).toBe(1);
    expect(tracker.oldestPendingSentAt()).toBe(120);
    expect(tracker.acked).toBe(2);
  });

  it('ignores repeated and lower acks', () => {
    const tracker = new AckTracker(16);
    tracker.recordSent(1, 0);
    tracker.recordSent(2, 0);
    expect(tracker.ack(2, 10)).toBe(2);
    expect(tracker.ack(2, 20)).toBe(0);
    expect(tracker.ack(1, 20)).toBe(0);
    expect(tracker.pending).toBe(0);
    expect(tracker.oldestPendingSentAt()).toBeUndefined();
  });

  it('an ack between tracked seqs confirms only those at or below it', () => {
    const tracker = new AckTracker(16);
    tracker.recordSent(5, 0);
    tracker.recordSent(9, 0);
    expect(tracker.ack(7, 1)).toBe(1);
    expect(tracker.pending).toBe(1);
  });

  it('stays bounded: the oldest entries are forgotten when full', () => {
    const tracker = new AckTracker(4);
    for (let seq = 1; seq <= 10; seq++) tracker.recordSent(seq, seq * 10);
    expect(tracker.pending).toBe(4);
    expect(tracker.forgotten).toBe(6);
    expect(tracker.oldestPendingSentAt()).toBe(70);
    expect(tracker.ack(10, 200)).toBe(4);
  });

  it('grows from its initial size without losing order', () => {
    const tracker = new AckTracker(1024);
    tracker.recordSent(1, 1);
    tracker.recordSent(2, 2);
    tracker.ack(1, 3);
    for (let seq = 3; seq <= 100; seq++) tracker.recordSent(seq, seq);
    expect(tracker.pending).toBe(99);
    expect(tracker.forgotten).toBe(0);
    expect(tracker.oldestPendingSentAt()).toBe(2);
    const latencies: number[] = [];
    expect(tracker.ack(100, 200, (ms) => latencies.push(ms))).toBe(99);
    expect(latencies).toEqual(Array.from({ length: 99 }, (_, i) => 200 - (i + 2)));
  });

  it('wraps around the ring many times without losing order', () => {
    const tracker = new AckTracker(8);
    let confirmed = 0;
    for (let seq = 1; seq <= 1000; seq++) {
      tracker.recordSent(seq, seq);
      if (seq % 5 === 0) confirmed += tracker.ack(seq - 2, seq);
    }
    confirmed += tracker.ack(1000, 2000);
    expect(confirmed).toBe(1000);
    expect(tracker.pending).toBe(0);
  });

  it('counts each unacknowledged seq once as timed out, at the sweep after its deadline', () => {
    const tracker = new AckTracker(16);
    tracker.recordSent(1, 100);
    tracker.recordSent(2, 200);
    tracker.recordSent(3, 300);
    expect(tracker.countTimedOut(50)).toBe(0);
    expect(tracker.countTimedOut(200)).toBe(2);
    expect(tracker.countTimedOut(250)).toBe(0);
    // A late ack confirms counted ones without recounting anything.
    expect(tracker.ack(2, 400)).toBe(2);
    expect(tracker.countTimedOut(1000)).toBe(1);
    expect(tracker.countTimedOut(2000)).toBe(0);
    tracker.recordSent(4, 2100);
    expect(tracker.countTimedOut(2100)).toBe(1);
  });

  it('an acked seq never times out', () => {
    const tracker = new AckTracker(16);
    tracker.recordSent(1, 0);
    tracker.recordSent(2, 0);
    tracker.ack(2, 10);
    expect(tracker.countTimedOut(10_000)).toBe(0);
    expect(tracker.oldestUnackedSentAt()).toBeUndefined();
  });

  it('keeps the age and the timeout of forgotten entries until an ack covers them', () => {
    const tracker = new AckTracker(4);
    for (let seq = 1; seq <= 10; seq++) tracker.recordSent(seq, seq * 10);
    // 1..6 were forgotten: the oldest unacknowledged one is still seq 1.
    expect(tracker.oldestPendingSentAt()).toBe(70);
    expect(tracker.oldestUnackedSentAt()).toBe(10);
    expect(tracker.countTimedOut(65)).toBe(6);
    expect(tracker.countTimedOut(100)).toBe(4);
    expect(tracker.countTimedOut(1000)).toBe(0);
    tracker.ack(5, 200);
    expect(tracker.oldestUnackedSentAt()).toBe(10);
    tracker.ack(6, 200);
    expect(tracker.oldestUnackedSentAt()).toBe(70);
  });

  it('does not count a forgotten entry twice when it timed out before it was forgotten', () => {
    const tracker = new AckTracker(2);
    tracker.recordSent(1, 10);
    tracker.recordSent(2, 20);
    expect(tracker.countTimedOut(15)).toBe(1);
    tracker.recordSent(3, 30); // forgets seq 1, already counted
    tracker.recordSent(4, 40); // forgets seq 2, not counted yet
    expect(tracker.countTimedOut(100)).toBe(3);
    expect(tracker.countTimedOut(100)).toBe(0);
  });
});
