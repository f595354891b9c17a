import { exceedsDepth } from './json-depth.js';
import { Limits } from './limits.js';

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
}

export interface IngestRules {
  maxEventBytes: number;
  criticalNames: ReadonlySet<string>;
}

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
  const body = JSON.stringify(frame).slice(1);
  // Lower bound on bytes is the string length; only measure exactly when close to the limit.
  if (body.length > rules.maxEventBytes || Buffer.byteLength(body) > rules.maxEventBytes) {
    return { ok: false, error: `event exceeds ${rules.maxEventBytes} bytes`, tooLarge: true };
  }
  return { ok: true, event: { id: e.id, userId: e.userId, critical, ts: now, body } };
}
