import { describe, expect, it } from 'vitest';
import { localStorageStore, memoryStore, type StorageLike } from '../src/index.js';

function mapStorage(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => {
      data.set(key, value);
    },
  };
}

describe('position stores', () => {
  it('localStorageStore round-trips the position under its key', () => {
    const storage = mapStorage();
    const store = localStorageStore('aw:u1', storage);
    expect(store.load()).toBeUndefined();
    store.save({ lastSeq: 42, epoch: 'k3x9' });
    expect(JSON.parse(storage.data.get('aw:u1') ?? '')).toEqual({ lastSeq: 42, epoch: 'k3x9' });
    expect(localStorageStore('aw:u1', storage).load()).toEqual({ lastSeq: 42, epoch: 'k3x9' });
  });

  it('localStorageStore treats a corrupt or foreign entry as no position', () => {
    const storage = mapStorage();
    for (const raw of [
      '{',
      '"x"',
      '{"lastSeq":-1}',
      '{"lastSeq":1.5}',
      '{"lastSeq":3,"epoch":7}',
    ]) {
      storage.setItem('k', raw);
      expect(localStorageStore('k', storage).load()).toBeUndefined();
    }
  });

  it('memoryStore hands out copies', () => {
    const store = memoryStore({ lastSeq: 1, epoch: 'e' });
    const loaded = store.load();
    if (loaded !== undefined && !(loaded instanceof Promise)) loaded.lastSeq = 99;
    expect(store.load()).toEqual({ lastSeq: 1, epoch: 'e' });
  });
});
