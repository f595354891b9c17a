import type { Logger } from '@agentwire/telemetry';

interface ThrottleState {
  lastAt: number;
  suppressed: number;
}

/** Per logger, per message: message strings are constants, so the maps stay small. */
const states = new WeakMap<Logger, Map<string, ThrottleState>>();

/**
 * Logs a warning at most once per `intervalMs` for the same message, with the
 * number of repeats left out since the last one. For failures that happen
 * per connection: a Redis outage with many sockets closing must not turn into
 * one log line per socket.
 */
export function warnThrottled(
  logger: Logger,
  fields: Record<string, unknown>,
  message: string,
  intervalMs = 5000,
  now = Date.now(),
): void {
  let byMessage = states.get(logger);
  if (byMessage === undefined) {
    byMessage = new Map();
    states.set(logger, byMessage);
  }
  const state = byMessage.get(message);
  if (state !== undefined && now - state.lastAt < intervalMs) {
    state.suppressed++;
    return;
  }
  const suppressed = state?.suppressed ?? 0;
  byMessage.set(message, { lastAt: now, suppressed: 0 });
  logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
}
