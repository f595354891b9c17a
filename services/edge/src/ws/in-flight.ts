import type { EdgeContext } from '../edge-context.js';

const ignore = (): void => undefined;

/**
 * Keeps `work` in ctx.inFlight until it settles, so that shutdown can wait
 * for it. The caller handles the work's errors; the tracked copy never rejects.
 */
export function trackInFlight(ctx: Pick<EdgeContext, 'inFlight'>, work: Promise<void>): void {
  const tracked: Promise<void> = work
    .then(ignore, ignore)
    .finally(() => ctx.inFlight.delete(tracked));
  ctx.inFlight.add(tracked);
}
