import { UsageError } from './cli-args.js';

/**
 * What a fleet publishes: critical events (seq, history, replay), plain
 * non-critical events (live only), or appends to one text stream per user's
 * run (protocol.md section 9). Non-critical events and appends carry the
 * same bytes, so their rates compare the run machinery alone.
 */
export type FleetEventKind = 'critical' | 'noncritical' | 'appends';

export const FLEET_EVENT_KINDS: readonly FleetEventKind[] = ['critical', 'noncritical', 'appends'];

/** The stream every fleet append goes to. */
export const FLEET_STREAM = 'answer';

/** Reads `--events critical|noncritical|appends`. */
export function parseEventKind(value: unknown): FleetEventKind {
  if (value === undefined) return 'critical';
  if ((FLEET_EVENT_KINDS as readonly unknown[]).includes(value)) return value as FleetEventKind;
  throw new UsageError(
    `--events must be one of ${FLEET_EVENT_KINDS.join(', ')}, not ${String(value)}`,
  );
}

// Token-like filler: spaces, a quote, a newline and two-byte characters, so
// both the stored text and the JSON frames have something to escape.
const FILLER = 'lorem "ipsum" dolor\nsit amét, ünd so wéiter; ';

/**
 * The text of the fleet's event number `n`: 5 to 20 bytes of UTF-8, starting
 * with `n` in base 36 (so no two appends of a run read the same), the rest
 * filler. Derived from `n` alone, so a client can check every append it gets
 * against the text that was sent for its id.
 */
export function appendTextOf(n: number): string {
  const targetBytes = 5 + ((n * 7919) % 16);
  let text = `${n.toString(36)} `;
  let bytes = Buffer.byteLength(text);
  for (let i = n % FILLER.length; bytes < targetBytes; i = (i + 1) % FILLER.length) {
    const char = FILLER[i] as string;
    const size = Buffer.byteLength(char);
    const next = bytes + size <= targetBytes ? char : 'x';
    text += next;
    bytes += Buffer.byteLength(next);
  }
  return text;
}

/** The event number at the end of a fleet event id (`<prefix>-<n in base 36>`); NaN if none. */
export function eventNumberOf(id: string): number {
  const at = id.lastIndexOf('-');
  return at < 0 ? Number.NaN : parseInt(id.slice(at + 1), 36);
}

/** The ingest body of one fleet event (protocol.md sections 6 and 9). */
export function fleetEvent(
  kind: FleetEventKind,
  id: string,
  n: number,
  userId: string,
  sentAt: number,
  runId: string,
): Record<string, unknown> {
  if (kind === 'critical') {
    return {
      id,
      userId,
      name: 'tool_executing',
      critical: true,
      runId,
      data: { sentAt, user: userId },
    };
  }
  const append = appendTextOf(n);
  if (kind === 'appends') {
    return {
      id,
      userId,
      name: 'token',
      runId,
      stream: FLEET_STREAM,
      append,
      data: { sentAt, user: userId },
    };
  }
  // The append's fields moved into data: the same bytes, but no run to keep.
  return {
    id,
    userId,
    name: 'token',
    data: { sentAt, user: userId, runId, stream: FLEET_STREAM, append },
  };
}
