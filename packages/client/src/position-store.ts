import type { Position } from './position.js';

/**
 * Where the client keeps its position between page loads or process restarts.
 * Both methods may be synchronous or return a promise (IndexedDB, a file...).
 * `load` is called once per `connect()`; `save` after every processed critical
 * event, before that event is acknowledged.
 */
export interface PositionStore {
  load(): Position | undefined | Promise<Position | undefined>;
  save(position: Position): void | Promise<void>;
}

/** Keeps the position in memory only: a new client starts live. The default. */
export function memoryStore(initial?: Position): PositionStore {
  let current = initial === undefined ? undefined : { ...initial };
  return {
    load: () => (current === undefined ? undefined : { ...current }),
    save: (position) => {
      current = { ...position };
    },
  };
}
