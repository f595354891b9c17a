/**
 * A position in a user's critical event history: the highest seq the
 * application has processed, and the epoch that seq belongs to (seqs count
 * within an epoch; a new epoch means the history was created afresh).
 */
export interface Position {
  lastSeq: number;
  /** Absent only for a position the application seeded by hand (e.g. `{ lastSeq: 0 }`). */
  epoch?: string;
}

export function isPosition(value: unknown): value is Position {
  if (typeof value !== 'object' || value === null) return false;
  const { lastSeq, epoch } = value as { lastSeq?: unknown; epoch?: unknown };
  return (
    typeof lastSeq === 'number' &&
    Number.isSafeInteger(lastSeq) &&
    lastSeq >= 0 &&
    (epoch === undefined || typeof epoch === 'string')
  );
}
