import { isPosition, type Position } from './position.js';
import type { PositionStore } from './position-store.js';

/** The subset of the Web Storage API the store uses (localStorage, sessionStorage). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Keeps the position in Web Storage under `key`, so a reloaded page resumes
 * where it left off. Give each client its own key: two tabs sharing one key
 * would each skip events the other processed. `sessionStorage` (per tab) is a
 * good choice for that; pass it as `storage`.
 */
export function localStorageStore(key: string, storage?: StorageLike): PositionStore {
  const resolve = (): StorageLike => {
    const target = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
    if (target === undefined) throw new Error('localStorage is not available here');
    return target;
  };
  return {
    load: (): Position | undefined => {
      const raw = resolve().getItem(key);
      if (raw === null) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return undefined; // A corrupt entry means "no position": start live rather than fail.
      }
      return isPosition(parsed) ? parsed : undefined;
    },
    save: (position) => {
      resolve().setItem(key, JSON.stringify(position));
    },
  };
}
