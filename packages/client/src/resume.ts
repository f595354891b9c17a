import type { WelcomeFrame } from '@agentwire/protocol';
import type { Position } from './position.js';

/** What a welcome means for the client's position. */
export interface ResumeOutcome {
  /** The position the next critical event must follow (its seq must be `lastSeq + 1`). */
  position: Position;
  /**
   * True when the application must resynchronise from its own source of truth:
   * events it never saw were lost (retention), or its history no longer exists.
   */
  resync: boolean;
}

/**
 * Where a connection starts, given the position the hello carried (`sent`,
 * undefined for a live start) and the server's welcome (protocol.md section 1).
 */
export function resumeFromWelcome(
  sent: Position | undefined,
  welcome: WelcomeFrame,
): ResumeOutcome {
  const { epoch, latestSeq, oldestSeq } = welcome;
  if (sent === undefined) {
    // Live start: nothing is replayed, the next event is latestSeq + 1.
    return { position: { lastSeq: latestSeq, epoch }, resync: false };
  }
  // The server replays from oldestSeq, so the position must sit just before it
  // or the first replayed event would look like a gap. oldestSeq is 0 when
  // nothing is retained: then only live events follow latestSeq.
  const beforeOldest = oldestSeq > 0 ? oldestSeq - 1 : latestSeq;
  if (sent.epoch !== undefined && sent.epoch !== epoch) {
    // The history the position belongs to is gone; the new one is replayed whole.
    return { position: { lastSeq: beforeOldest, epoch }, resync: true };
  }
  if (!welcome.resumed) {
    if (sent.lastSeq > latestSeq) {
      // A position from a history the server no longer has: live after latestSeq.
      return { position: { lastSeq: latestSeq, epoch }, resync: true };
    }
    // Events between sent.lastSeq and oldestSeq were lost to retention.
    return { position: { lastSeq: Math.max(sent.lastSeq, beforeOldest), epoch }, resync: true };
  }
  return { position: { lastSeq: sent.lastSeq, epoch }, resync: false };
}

export type CriticalVerdict = 'deliver' | 'duplicate' | 'gap';

/**
 * Dedupe and gap check for a critical event on a live connection: seqs are
 * contiguous per user, so anything at or below the position was seen already
 * and anything beyond the next seq means events were missed.
 */
export function classifyCritical(lastSeq: number, seq: number): CriticalVerdict {
  if (seq <= lastSeq) return 'duplicate';
  if (seq === lastSeq + 1) return 'deliver';
  return 'gap';
}
