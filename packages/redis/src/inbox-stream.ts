/**
 * Field names of a node inbox stream entry, written by the buffer, read by
 * the edge. An entry holds one or more events (the buffer writes one entry
 * per node and persist call), one after the other, each starting with `u`.
 */
export const InboxField = {
  userId: 'u',
  /** Critical seq, "0" for non-critical events. */
  seq: 's',
  /** The complete event frame, ready to send as is. */
  frame: 'f',
  /** The user's history epoch the seq belongs to. */
  epoch: 'e',
  /** Appends only (after the four above): run id, stream, chunk. */
  runId: 'r',
  stream: 'n',
  chunk: 'k',
} as const;

/** An append's place in its run, for the edge's chunk rule (protocol.md section 9). */
export interface InboxAppend {
  runId: string;
  stream: string;
  chunk: number;
}

export interface InboxEntry {
  userId: string;
  seq: number;
  frame: string;
  epoch: string;
  /** Appends only. */
  append?: InboxAppend | undefined;
}

/**
 * Most fields a writer puts in one inbox entry (500 to 1,000 events): a
 * Lua script's unpack() stops below 8,000 values.
 */
export const INBOX_ENTRY_MAX_FIELDS = 4000;

/** One bit per known field name, for inboxEventEnd. */
const FIELD_BITS: ReadonlyMap<string, number> = new Map(
  Object.values(InboxField).map((name, index) => [name, 1 << index]),
);

/**
 * Where the event starting at field `from` of an entry's flat field list
 * ends: at the first known field name the event already has (the next
 * event's, writers put `u` first), or at the end of the list. So one event
 * may hold its fields in any order, and names added later never split one.
 */
export function inboxEventEnd(fields: readonly string[], from: number): number {
  let seen = 0;
  for (let at = from; at < fields.length; at += 2) {
    const bit = FIELD_BITS.get(fields[at] as string) ?? 0;
    if ((seen & bit) !== 0) return at;
    seen |= bit;
  }
  return fields.length;
}

/**
 * Reads the event in fields [from, to) of an entry's flat field list (XREAD
 * returns it flat; inboxEventEnd finds `to`). Fields are written in a fixed
 * order (u, s, f, e); this parses by name anyway so that an added field never
 * breaks an older reader.
 */
export function parseInboxFields(
  fields: readonly string[],
  from = 0,
  to = fields.length,
): InboxEntry | undefined {
  let userId: string | undefined;
  let seq = 0;
  let frame: string | undefined;
  let epoch = '';
  let runId = '';
  let stream = '';
  let chunk = 0;
  for (let i = from; i + 1 < to; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case InboxField.userId:
        userId = value;
        break;
      case InboxField.seq:
        seq = Number(value);
        break;
      case InboxField.frame:
        frame = value;
        break;
      case InboxField.epoch:
        epoch = value;
        break;
      case InboxField.runId:
        runId = value;
        break;
      case InboxField.stream:
        stream = value;
        break;
      case InboxField.chunk:
        chunk = Number(value);
        break;
    }
  }
  if (userId === undefined || frame === undefined) return undefined;
  if (chunk > 0 && runId !== '')
    return { userId, seq, frame, epoch, append: { runId, stream, chunk } };
  return { userId, seq, frame, epoch };
}
