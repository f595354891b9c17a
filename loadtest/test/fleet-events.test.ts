import { describe, expect, it } from 'vitest';
import { appendTextOf, eventNumberOf, fleetEvent, parseEventKind } from '../src/fleet-events.js';

describe('appendTextOf', () => {
  it('gives 5 to 20 bytes of UTF-8 that start with the number, the same every time', () => {
    const sizes = new Set<number>();
    for (let n = 0; n < 5000; n++) {
      const text = appendTextOf(n);
      const bytes = Buffer.byteLength(text);
      expect(bytes).toBeGreaterThanOrEqual(5);
      expect(bytes).toBeLessThanOrEqual(20);
      expect(text.startsWith(`${n.toString(36)} `)).toBe(true);
      expect(appendTextOf(n)).toBe(text);
      sizes.add(bytes);
    }
    expect(sizes.size).toBe(16);
  });

  it('mixes in characters a JSON frame must escape and multi-byte ones', () => {
    const all = Array.from({ length: 500 }, (_, n) => appendTextOf(n)).join('');
    expect(all).toContain('"');
    expect(all).toContain('\n');
    expect(Buffer.byteLength(all)).toBeGreaterThan(all.length);
  });
});

describe('fleet events', () => {
  it('reads the event number back from an id', () => {
    expect(eventNumberOf(`fl-ab12cd34-${(123_456).toString(36)}`)).toBe(123_456);
    expect(eventNumberOf('no number')).toBeNaN();
  });

  it('gives appends and plain non-critical events the same bytes', () => {
    const args = [
      'fl-ab12cd34-2n9c',
      123_456,
      'fl-ab12cd34-u7',
      1_764_000_000_000,
      'run-ab12cd34',
    ] as const;
    const append = fleetEvent('appends', ...args);
    const plain = fleetEvent('noncritical', ...args);
    expect(append).toMatchObject({
      runId: 'run-ab12cd34',
      stream: 'answer',
      append: appendTextOf(123_456),
    });
    expect(plain).not.toHaveProperty('runId');
    expect(plain).not.toHaveProperty('critical');
    expect(JSON.stringify(plain).length).toBe(JSON.stringify(append).length);
    expect(fleetEvent('critical', ...args)).toMatchObject({
      critical: true,
      runId: 'run-ab12cd34',
    });
  });

  it('parses --events', () => {
    expect(parseEventKind(undefined)).toBe('critical');
    expect(parseEventKind('appends')).toBe('appends');
    expect(() => parseEventKind('tokens')).toThrow(/--events/);
  });
});
