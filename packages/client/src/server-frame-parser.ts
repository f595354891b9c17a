import type { ServerFrame } from '@agentwire/protocol';

/** Result of reading one server message: a frame, an unknown type to ignore, or a malformed frame. */
export type ParsedServerFrame =
  | { kind: 'frame'; frame: ServerFrame }
  | { kind: 'unknown'; type: string }
  | { kind: 'malformed'; reason: string };

type Fields = Record<string, unknown>;

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNonNegative = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isObject = (v: unknown): v is Fields =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const RUN_STATUSES: ReadonlySet<unknown> = new Set(['running', 'ended', 'stalled', 'unknown']);

/** A snapshot's `streams`: every entry `{ text, chunks, truncated }`. */
function isStreams(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const stream of Object.values(v)) {
    if (!isObject(stream)) return false;
    if (
      !isString(stream.text) ||
      !isCount(stream.chunks) ||
      typeof stream.truncated !== 'boolean'
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Checks the fields the client relies on; unknown fields are ignored and
 * unknown frame types are reported as such, so the server can add both
 * (protocol.md: "unknown fields are ignored by both sides").
 */
export function parseServerFrame(text: string): ParsedServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'malformed', reason: 'not a JSON object' };
  }
  const f = value as Fields;
  const bad = (field: string): ParsedServerFrame => ({
    kind: 'malformed',
    reason: `${String(f.type)} frame with a bad ${field}`,
  });
  switch (f.type) {
    case 'welcome':
      for (const key of ['connectionId', 'node', 'userId', 'epoch'] as const) {
        if (!isString(f[key])) return bad(key);
      }
      if (!isCount(f.latestSeq)) return bad('latestSeq');
      if (!isCount(f.oldestSeq)) return bad('oldestSeq');
      if (typeof f.resumed !== 'boolean') return bad('resumed');
      if (!isNonNegative(f.heartbeatMs)) return bad('heartbeatMs');
      if (!isNonNegative(f.maxPayload)) return bad('maxPayload');
      break;
    case 'event':
      if (!isString(f.name)) return bad('name');
      if (typeof f.critical !== 'boolean') return bad('critical');
      if (f.critical && !(isCount(f.seq) && f.seq >= 1)) return bad('seq');
      if (f.append !== undefined) {
        // An append to a run's text stream (section 9): the run store relies on these.
        if (!isString(f.append)) return bad('append');
        if (!(isCount(f.chunk) && f.chunk >= 1)) return bad('chunk');
        if (!isString(f.runId)) return bad('runId');
        if (f.stream !== undefined && !isString(f.stream)) return bad('stream');
      }
      break;
    case 'snapshot':
      if (!isString(f.runId)) return bad('runId');
      if (!RUN_STATUSES.has(f.status)) return bad('status');
      if (f.startedTs !== undefined && !isNonNegative(f.startedTs)) return bad('startedTs');
      if (f.updatedTs !== undefined && !isNonNegative(f.updatedTs)) return bad('updatedTs');
      if (!isStreams(f.streams)) return bad('streams');
      break;
    case 'heartbeat':
      break;
    case 'accepted':
      if (!isString(f.id)) return bad('id');
      break;
    case 'error':
      if (!isString(f.code)) return bad('code');
      if (f.id !== undefined && !isString(f.id)) return bad('id');
      break;
    case 'reconnect':
      if (!isNonNegative(f.afterMs)) return bad('afterMs');
      break;
    default:
      return isString(f.type)
        ? { kind: 'unknown', type: f.type }
        : { kind: 'malformed', reason: 'missing type' };
  }
  return { kind: 'frame', frame: f as unknown as ServerFrame };
}
