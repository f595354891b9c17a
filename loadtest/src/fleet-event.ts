import type { DeliveryLedger } from './delivery-ledger.js';

/** What a fleet connection (WebSocket or SSE) records per event frame. */
export interface FleetEventSink {
  readonly ledger: DeliveryLedger;
  nonCritical: number;
}

const MAX_RECONNECTS = 20;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_CAP_MS = 2000;

/**
 * Hot path: one call per event frame, whatever the transport. Counts
 * non-critical events, foreign events and critical seqs in the ledger, and
 * reports the latency of each critical event seen for the first time.
 */
export function recordFleetEvent(
  sink: FleetEventSink,
  frame: Record<string, unknown>,
  userId: string,
  onFirstDelivery: ((fromIngestMs: number, fromSendMs: number | undefined) => void) | undefined,
): void {
  const seq = frame.seq;
  if (frame.critical !== true || typeof seq !== 'number') {
    sink.nonCritical++;
    return;
  }
  const data = frame.data as { user?: unknown; sentAt?: unknown } | undefined;
  if (data && typeof data.user === 'string' && data.user !== userId) {
    sink.ledger.onForeign();
    return;
  }
  if (sink.ledger.onCritical(seq) !== 'new') return;
  const now = Date.now();
  const fromIngest = typeof frame.ts === 'number' ? now - frame.ts : Number.NaN;
  const fromSend = data && typeof data.sentAt === 'number' ? now - data.sentAt : undefined;
  onFirstDelivery?.(fromIngest, fromSend);
}

/**
 * The delay before reconnect attempt `attempt` (full jitter: thousands of
 * clients of a dead node must not come back in lockstep), or undefined when
 * the client gives up. A draining node's `afterMs` wins.
 */
export function fleetReconnectDelay(
  attempt: number,
  drainDelayMs: number | undefined,
): number | undefined {
  if (attempt >= MAX_RECONNECTS) return undefined;
  const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** attempt);
  return drainDelayMs ?? Math.random() * cap;
}
