/** Opaque handle returned by `Timers.setTimeout`. */
export type TimerHandle = unknown;

/**
 * Time source and timers, injectable so tests run on a virtual clock. The
 * default looks the globals up on every call, so test fake timers installed
 * after the client was created still apply.
 */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) =>
    globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};
