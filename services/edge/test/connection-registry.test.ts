import { describe, expect, it } from 'vitest';
import { ConnectionRegistry } from '../src/connection-registry.js';

describe('ConnectionRegistry', () => {
  it('reports the first and the last connection of a user', () => {
    const registry = new ConnectionRegistry<object>();
    const a = {};
    const b = {};
    expect(registry.add('u1', a)).toBe(true);
    expect(registry.add('u1', b)).toBe(false);
    expect(registry.size).toBe(2);
    expect(registry.users).toBe(1);
    expect(registry.remove('u1', a)).toBe(false);
    expect(registry.remove('u1', b)).toBe(true);
    expect(registry.hasUser('u1')).toBe(false);
    expect(registry.get('u1')).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('ignores double adds and removes of unknown connections', () => {
    const registry = new ConnectionRegistry<object>();
    const a = {};
    registry.add('u1', a);
    registry.add('u1', a);
    expect(registry.size).toBe(1);
    expect(registry.remove('u2', a)).toBe(false);
    expect(registry.remove('u1', {})).toBe(false);
    expect(registry.size).toBe(1);
  });

  it('keeps the order of the remaining connections when one in the middle leaves', () => {
    const registry = new ConnectionRegistry<string>();
    for (const conn of ['c1', 'c2', 'c3', 'c4']) registry.add('u1', conn);
    expect(registry.remove('u1', 'c2')).toBe(false);
    expect(registry.get('u1')).toEqual(['c1', 'c3', 'c4']);
    expect(registry.remove('u1', 'c4')).toBe(false);
    expect(registry.get('u1')).toEqual(['c1', 'c3']);
    expect(registry.size).toBe(2);
  });

  it('leaves a list a caller holds as it was when connections come and go', () => {
    const registry = new ConnectionRegistry<string>();
    registry.add('u1', 'c1');
    registry.add('u1', 'c2');
    const held = registry.get('u1');
    registry.remove('u1', 'c1');
    registry.add('u1', 'c3');
    expect(held).toEqual(['c1', 'c2']);
    expect(registry.get('u1')).toEqual(['c2', 'c3']);
    expect([...registry.entries()]).toEqual([['u1', ['c2', 'c3']]]);
  });

  it('keeps users apart', () => {
    const registry = new ConnectionRegistry<string>();
    registry.add('u1', 'c1');
    registry.add('u2', 'c2');
    expect([...(registry.get('u1') ?? [])]).toEqual(['c1']);
    expect([...(registry.get('u2') ?? [])]).toEqual(['c2']);
  });
});
