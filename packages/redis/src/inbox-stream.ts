/** Field names of a node inbox stream entry, written by the buffer, read by the edge. */
export const InboxField = {
  userId: 'u',
  /** Critical seq, "0" for non-critical events. */
  seq: 's',
  /** The complete event frame, ready to send as is. */
  frame: 'f',
  /** The user's history epoch the seq belongs to. */
  epoch: 'e',
} as const;

export interface InboxEntry {
  userId: string;
  seq: number;
  frame: string;
  epoch: string;
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
    }
  }
  if (userId === undefined || frame === undefined) return undefined;
  return { userId, seq, frame, epoch };
}
