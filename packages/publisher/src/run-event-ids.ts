import { createHash } from 'node:crypto';

/**
 * Longest id prefix kept as given: with a stream name (at most 64) and a
 * counter (at most 16 digits) an append id stays within the protocol's 128
 * characters.
 */
export const MAX_RUN_ID_PREFIX_LENGTH = 40;

/**
 * The ids of a run's events. They depend only on the run and the writer's
 * counters, so a batch sent again carries the same ids and the service keeps
 * each event once. The shapes cannot be mistaken for one another: an append
 * id ends in `:<digits>`, any other event of the run in `:#<digits>` or a word.
 */
export interface RunEventIds {
  readonly start: string;
  readonly end: string;
  readonly error: string;
  /** The `n`th append event (from 1) of `stream`. */
  append(stream: string, n: number): string;
  /** The `n`th other event (from 1) of the run. */
  event(n: number): string;
}

/** The prefix of a run's event ids: the run id itself, or a hash of it when it is too long. */
export function defaultRunIdPrefix(runId: string): string {
  if (runId.length <= MAX_RUN_ID_PREFIX_LENGTH) return runId;
  return `h.${createHash('sha256').update(runId).digest('base64url').slice(0, 32)}`;
}

export function runEventIds(prefix: string): RunEventIds {
  return {
    start: `${prefix}:start`,
    end: `${prefix}:end`,
    error: `${prefix}:error`,
    append: (stream, n) => `${prefix}:${stream}:${n}`,
    event: (n) => `${prefix}:#${n}`,
  };
}
