import { describe, expect, it } from 'vitest';
import { LiveQueue, type QueuedEvent } from '../src/ws/live-queue.js';

const critical = (seq: number): QueuedEvent => ({ seq, frame: `c${seq}`, epoch: 'e' });
const nonCritical = (label: string): QueuedEvent => ({ seq: 0, frame: `n${label}`, epoch: 'e' });

describe('LiveQueue', () => {
  it('keeps critical events above the replayed seq, in order', () => {
    const queue = new LiveQueue(100, 10_000);
    for (const seq of [3, 4, 5, 6]) queue.push(critical(seq));
    expect(queue.drain(4).map((e) => e.frame)).toEqual(['c5', 'c6']);
    expect(queue.length).toBe(0);
  });

  it('drops non-critical events older than the last already-sent critical event', () => {
    const queue = new LiveQueue(100, 10_000);
    [nonCritical('a'), critical(5), nonCritical('b'), critical(6), nonCritical('c')].forEach((e) =>
      queue.push(e),
    );
    expect(queue.drain(5).map((e) => e.frame)).toEqual(['nb', 'c6', 'nc']);
  });

  it('keeps every non-critical event when no queued critical event was replayed', () => {
    const queue = new LiveQueue(100, 10_000);
    [nonCritical('a'), critical(7), nonCritical('b')].forEach((e) => queue.push(e));
    expect(queue.drain(6).map((e) => e.frame)).toEqual(['na', 'c7', 'nb']);
  });

  it('overflows by entry count: drops everything and reports it once', () => {
    const queue = new LiveQueue(3, 10_000);
    for (const seq of [1, 2, 3, 4]) queue.push(critical(seq));
    expect(queue.length).toBe(0);
    expect(queue.takeOverflow()).toBe(true);
    expect(queue.takeOverflow()).toBe(false);
    queue.push(critical(5));
    expect(queue.drain(0).map((e) => e.seq)).toEqual([5]);
  });

  it('is empty only when it holds no event, no overflow and no dropped append', () => {
    const queue = new LiveQueue(2, 10_000);
    expect(queue.isEmpty).toBe(true);
    queue.push(critical(1));
    expect(queue.isEmpty).toBe(false);
    queue.drain(0);
    expect(queue.isEmpty).toBe(true);
    for (const seq of [2, 3, 4]) queue.push(critical(seq));
    expect(queue.length).toBe(0);
    expect(queue.isEmpty).toBe(false);
    queue.takeOverflow();
    expect(queue.isEmpty).toBe(true);
    const append = { runId: 'r1', stream: 's', chunk: 1 };
    queue.push({ seq: 0, frame: 'a1', epoch: '', append });
    queue.push({ seq: 5, frame: 'c5', epoch: '' });
    expect(queue.drain(5)).toEqual([]);
    expect(queue.isEmpty).toBe(false);
    expect(queue.takeDroppedAppends()).toEqual([append]);
    expect(queue.isEmpty).toBe(true);
  });

  it('overflows by bytes', () => {
    const queue = new LiveQueue(100, 10);
    queue.push({ seq: 1, frame: '12345678', epoch: '' });
    queue.push({ seq: 2, frame: '12345678', epoch: '' });
    expect(queue.takeOverflow()).toBe(true);
    expect(queue.length).toBe(0);
  });
});
