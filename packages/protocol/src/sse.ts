import { CloseCode } from './close-codes.js';
import type { EventFrame } from './frames.js';

/**
 * Server-Sent Events and HTTP for users (protocol.md section 10).
 *
 * Before its first message an SSE stream can still answer with an HTTP
 * status; the status a refused stream gets stands for the close code a
 * WebSocket would have been closed with, and clients map it back so that
 * both transports reconnect (or stop) by the same rules.
 */
export const SsePath = {
  stream: '/v1/sse',
  ack: '/v1/ack',
  publish: '/v1/publish',
  history: '/v1/history',
} as const;

const statusByCloseCode: ReadonlyMap<number, number> = new Map([
  [CloseCode.Unauthorized, 401],
  [CloseCode.ProtocolError, 400],
  [CloseCode.LimitReached, 429],
  [CloseCode.RateLimited, 429],
  [CloseCode.Draining, 503],
]);

/** The HTTP status of an SSE stream refused before its first message (503 for server errors). */
export function sseStatusForClose(code: number): number {
  return statusByCloseCode.get(code) ?? 503;
}

/** The close code a client acts on when an SSE request was answered with `status`. */
export function closeCodeForSseStatus(status: number): number {
  switch (status) {
    case 400:
    case 413:
      return CloseCode.ProtocolError;
    case 401:
    case 403:
      return CloseCode.Unauthorized;
    case 429:
      return CloseCode.LimitReached;
    default:
      // 503, 5xx, a proxy's error page: a server-side problem; resume elsewhere.
      return 1011;
  }
}

/** `Last-Event-ID` of a critical event: `<epoch>:<seq>`. */
export function sseEventId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

/** Largest `limit` of GET /v1/history, and its default. */
export const HISTORY_MAX_LIMIT = 1000;
export const HISTORY_DEFAULT_LIMIT = 100;

/** GET /v1/history answer. `epoch` is '' while the user has no history yet. */
export interface HistoryResponse {
  epoch: string;
  oldestSeq: number;
  latestSeq: number;
  resumed: boolean;
  events: EventFrame[];
}

/** POST /v1/publish answer (202). */
export interface PublishAcceptedResponse {
  accepted: true;
  id: string;
}
