import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exceedsDepth, Limits } from '../src/index.js';
import { depthOf } from './frame-contract.js';

/** Builds nesting in a loop (a recursive builder would overflow before the code under test). */
function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { k: value };
  return value;
}

describe('exceedsDepth', () => {
  it('counts a scalar as depth 0 and each array or object level as 1', () => {
    for (const scalar of [null, 0, 'x', true]) expect(exceedsDepth(scalar, 0)).toBe(false);
    expect(exceedsDepth([], 0)).toBe(true);
    expect(exceedsDepth([], 1)).toBe(false);
    expect(exceedsDepth({ a: [1] }, 1)).toBe(true);
    expect(exceedsDepth({ a: [1] }, 2)).toBe(false);
  });

  it('is exact at the contract limit', () => {
    for (const kind of ['array', 'object'] as const) {
      expect(exceedsDepth(nested(Limits.maxJsonDepth, kind), Limits.maxJsonDepth)).toBe(false);
      expect(exceedsDepth(nested(Limits.maxJsonDepth + 1, kind), Limits.maxJsonDepth)).toBe(true);
    }
  });

  it('handles 100 000 levels iteratively, from a loop and from JSON.parse', () => {
    const depth = 100_000;
    const values = [
      nested(depth, 'array'),
      nested(depth, 'object'),
      JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown,
      JSON.parse(`${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`) as unknown,
    ];
    for (const value of values) {
      expect(() => exceedsDepth(value, Limits.maxJsonDepth)).not.toThrow();
      expect(exceedsDepth(value, Limits.maxJsonDepth)).toBe(true);
      // Even with a limit above the depth it walks to the bottom without recursion.
      expect(exceedsDepth(value, depth + 1)).toBe(false);
    }
  });

  it('handles wide values (one level, many members)', () => {
    const wide = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    expect(exceedsDepth(wide, 2)).toBe(false);
    expect(exceedsDepth(wide, 1)).toBe(true);
  });

  it('agrees with a recursive reference on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 14 }), (v, max) => {
        expect(exceedsDepth(v, max)).toBe(depthOf(v) > max);
      }),
      { numRuns: 1000 },
    );
  });
});
