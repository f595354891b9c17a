import { describe, expect, it } from 'vitest';
import { IngestEventFactory, type LoadEvent } from '../src/ingest-event-factory.js';

describe('IngestEventFactory', () => {
  it('never repeats an id, within a factory or across factories', () => {
    const a = new IngestEventFactory({ users: 3, criticalShare: 0.5, userPrefix: 'u' });
    const b = new IngestEventFactory({ users: 3, criticalShare: 0.5, userPrefix: 'u' });
    const ids = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      ids.add(a.next().id);
      ids.add(b.next().id);
    }
    expect(ids.size).toBe(10_000);
  });

  it('marks exactly the configured share critical in any prefix of the run', () => {
    const factory = new IngestEventFactory({ users: 10, criticalShare: 0.2, userPrefix: 'u' });
    const events = Array.from({ length: 1000 }, () => factory.next());
    expect(events.filter((e) => e.critical)).toHaveLength(200);
    expect(events.slice(0, 10).filter((e) => e.critical)).toHaveLength(2);
    expect(events.filter((e) => e.critical).every((e) => e.name === 'tool_executing')).toBe(true);
    expect(events.filter((e) => !e.critical).every((e) => e.name === 'token_delta')).toBe(true);
  });

  it('spreads events over the users round robin', () => {
    const factory = new IngestEventFactory({ users: 3, criticalShare: 0, userPrefix: 'lt-u' });
    expect(Array.from({ length: 4 }, () => factory.next().userId)).toEqual([
      'lt-u0',
      'lt-u1',
      'lt-u2',
      'lt-u0',
    ]);
  });

  it('builds an object body for batch 1 and an array body otherwise', () => {
    const factory = new IngestEventFactory({
      users: 2,
      criticalShare: 1,
      userPrefix: 'u',
      padBytes: 16,
    });
    const single = JSON.parse(factory.body(1)) as LoadEvent;
    expect(Array.isArray(single)).toBe(false);
    expect(single.data.pad).toHaveLength(16);
    const batch = JSON.parse(factory.body(50)) as LoadEvent[];
    expect(batch).toHaveLength(50);
    expect(new Set(batch.map((e) => e.id)).size).toBe(50);
    expect(factory.produced).toBe(51);
  });

  it('rejects impossible mixes', () => {
    expect(() => new IngestEventFactory({ users: 0, criticalShare: 0.5, userPrefix: 'u' })).toThrow(
      RangeError,
    );
    expect(() => new IngestEventFactory({ users: 1, criticalShare: 1.5, userPrefix: 'u' })).toThrow(
      RangeError,
    );
  });
});
