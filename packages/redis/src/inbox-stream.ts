/** Field names of a node inbox stream entry, written by the buffer, read by the edge. */
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
 * Reads one inbox entry from the flat field list XREAD returns. Fields are
 * written in a fixed order (u, s, f, e); this parses by name anyway so that
 * an added field never breaks an older reader.
 */
export function parseInboxFields(fields: readonly string[]): InboxEntry | undefined {
  let userId: string | undefined;
  let seq = 0;
  let frame: string | undefined;
  let epoch = '';
  let runId = '';
  let stream = '';
  let chunk = 0;
  for (let i = 0; i + 1 < fields.length; i += 2) {
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
  if (chunk > 0 && runId !== '') return { userId, seq, frame, epoch, append: { runId, stream, chunk } };
  return { userId, seq, frame, epoch };
}
