import { setTimeout as delay } from 'node:timers/promises';

/**
 * Waits `ms`, or less when the signal aborts; never rejects. Node removes
 * its abort listener when the timer fires, so loops that sleep often do not
 * pile listeners up on a long-lived signal.
 */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).then(
    () => undefined,
    () => undefined,
  );
}
