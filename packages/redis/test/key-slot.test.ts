import { describe, expect, it } from 'vitest';
import { keySlot } from '../src/key-slot.js';

describe('keySlot', () => {
  it('matches Redis Cluster (CLUSTER KEYSLOT) for plain keys and hash tags', () => {
    // Values from the Redis Cluster specification and CLUSTER KEYSLOT.
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('aw:{s3}:lease')).toBe(keySlot('s3'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    // An empty tag hashes the whole key.
    expect(keySlot('foo{}bar')).not.toBe(keySlot(''));
  });
});
