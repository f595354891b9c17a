import { exceedsDepth } from './json-depth.js';
import { DEFAULT_RUN_END_EVENTS, Limits, RUN_STALLED_EVENT } from './limits.js';

/**
 * An ingest event after validation, ready to be appended to an ingest stream.
 * `body` is the event frame serialised once, without its opening brace and
 * without `type`/`seq`: the sequencer prepends those, so nothing downstream
 * ever re-serialises the event (hot path).
 */
export interface AcceptedEvent {
  id: string;
  userId: string;
  critical: boolean;
  ts: number;
  body: string;
  /** Set when the event belongs to a run: what the sequencer needs of it. */
  run?: RunPart;
}

/**
 * How an event acts on its run (protocol.md section 9): `event` any event of
 * the run, `append` adds `text` to `stream`, `end` a critical event named in
 * RUN_END_EVENTS.
 */
export type RunPart =
  | { runId: string; kind: 'event' | 'end' }
  | { runId: string; kind: 'append'; stream: string; text: string };

export interface IngestRules {
  maxEventBytes: number;
  criticalNames: ReadonlySet<string>;
  /** Critical names that end a run; default DEFAULT_RUN_END_EVENTS. */
  runEndNames?: ReadonlySet<string>;
}

/** With the u flag a surrogate class matches only unpaired surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const defaultRunEndNames: ReadonlySet<string> = new Set(DEFAULT_RUN_END_EVENTS);

export type IngestValidation =
  { ok: true; event: AcceptedEvent } | { ok: false; error: string; tooLarge?: boolean };

function isBoundedString(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

/** Validates one posted event (protocol.md section 6) and serialises it for the event frame. */
export function validateIngestEvent(
  value: unknown,
  rules: IngestRules,
  now: number,
): IngestValidation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'event must be a JSON object' };
  }
  const e = value as Record<string, unknown>;
  if (!isBoundedString(e.id, Limits.maxEventIdLength)) {
    return {
      ok: false,
      error: `id must be a string of 1 to ${Limits.maxEventIdLength} characters`,
    };
  }
  if (typeof e.userId !== 'string' || !Limits.userIdPattern.test(e.userId)) {
    return { ok: false, error: 'userId must be 1 to 128 characters of [A-Za-z0-9._:@-]' };
  }
  if (!isBoundedString(e.name, Limits.maxNameLength)) {
    return { ok: false, error: `name must be a string of 1 to ${Limits.maxNameLength} characters` };
  }
  if (e.name === RUN_STALLED_EVENT) {
    return { ok: false, error: `${RUN_STALLED_EVENT} is sent by the service only` };
  }
  if (e.critical !== undefined && typeof e.critical !== 'boolean') {
    return { ok: false, error: 'critical must be a boolean' };
  }
  if (e.runId !== undefined && !isBoundedString(e.runId, Limits.maxRunIdLength)) {
    return {
      ok: false,
      error: `runId must be a string of 1 to ${Limits.maxRunIdLength} characters`,
    };
  }
  if (e.threadId !== undefined && !isBoundedString(e.threadId, Limits.maxThreadIdLength)) {
    return {
      ok: false,
      error: `threadId must be a string of 1 to ${Limits.maxThreadIdLength} characters`,
    };
  }
  if (exceedsDepth(e.data, Limits.maxJsonDepth)) {
    return { ok: false, error: `data nests deeper than ${Limits.maxJsonDepth}` };
  }
  if (e.append !== undefined) return validateAppend(e, e.id, e.userId, e.name, rules, now);
  if (e.stream !== undefined) return { ok: false, error: 'stream is only valid with append' };
  const critical = e.critical ?? rules.criticalNames.has(e.name);
  const frame = {
    id: e.id,
    critical,
    name: e.name,
    runId: e.runId,
    threadId: e.threadId,
    ts: now,
    data: e.data,
  };
  let run: RunPart | undefined;
  if (e.runId !== undefined) {
    const ends = critical && (rules.runEndNames ?? defaultRunEndNames).has(e.name);
    run = { runId: e.runId, kind: ends ? 'end' : 'event' };
  }
  return accept(e.id, e.userId, critical, now, frame, rules, run);
}

/** An append to a run's text stream (protocol.md section 9, "Ingest"). */
function validateAppend(
  e: Record<string, unknown>,
  id: string,
  userId: string,
  name: string,
  rules: IngestRules,
  now: number,
): IngestValidation {
  if (typeof e.append !== 'string') return { ok: false, error: 'append must be a string' };
  if (e.append === '' && e.data === undefined) {
    return { ok: false, error: 'append may be empty only when data is present' };
  }
  // A lone surrogate cannot be stored as UTF-8: the kept text would differ from the live one.
  if (LONE_SURROGATE.test(e.append)) {
    return { ok: false, error: 'append must be well-formed Unicode (no lone surrogates)' };
  }
  if (e.runId === undefined) return { ok: false, error: 'runId is required with append' };
  if (e.critical === true) return { ok: false, error: 'an append is never critical' };
  const stream = e.stream ?? Limits.defaultStreamName;
  if (typeof stream !== 'string' || !Limits.streamNamePattern.test(stream)) {
    return { ok: false, error: 'stream must be 1 to 64 characters of [A-Za-z0-9._:-]' };
  }
  const runId = e.runId as string;
  const frame = {
    id,
    critical: false,
    name,
    runId,
    stream,
    append: e.append,
    threadId: e.threadId,
    ts: now,
    data: e.data,
  };
  const run: RunPart = { runId, kind: 'append', stream, text: e.append };
  return accept(id, userId, false, now, frame, rules, run);
}

/** Hot path (every posted event): the event is built in one literal, bytes counted only near the limit. */
function accept(
  id: string,
  userId: string,
  critical: boolean,
  ts: number,
  frame: object,
  rules: IngestRules,
  run: RunPart | undefined,
): IngestValidation {
  const body = JSON.stringify(frame).slice(1);
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units), so
  // length <= bytes <= 3 * length: measure exactly only where the two bounds disagree.
  if (
    body.length > rules.maxEventBytes ||
    (3 * body.length > rules.maxEventBytes && Buffer.byteLength(body) > rules.maxEventBytes)
  ) {
    return { ok: false, error: `event exceeds ${rules.maxEventBytes} bytes`, tooLarge: true };
  }
  return {
    ok: true,
    event:
      run === undefined
        ? { id, userId, critical, ts, body }
        : { id, userId, critical, ts, body, run },
  };
}
