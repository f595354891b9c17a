/**
 * WebSocket close codes of the agentwire wire contract (protocol.md section 5).
 * Clients decide whether to reconnect from these: see `shouldReconnect`.
 */
export const CloseCode = {
  /** Normal closure by either side. */
  Normal: 1000,
  /** No valid hello in time, bad or expired token. Ask for a fresh token before retrying. */
  Unauthorized: 4001,
  /** Too many connections for this user or node. */
  LimitReached: 4008,
  /** Frame larger than maxPayload. */
  FrameTooLarge: 4009,
  /** Upstream rate limit exceeded repeatedly. */
  RateLimited: 4029,
  /** Malformed frame, unknown type, protocol violation. Not retried blindly. */
  ProtocolError: 4400,
  /** Slow consumer: send buffer passed the hard limit. Reconnect and resume. */
  SlowConsumer: 4408,
  /** Node draining; preceded by a reconnect frame. */
  Draining: 4503,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Codes after which a client must not reconnect without changing something first. */
const noBlindRetry: ReadonlySet<number> = new Set([
  CloseCode.Unauthorized,
  CloseCode.ProtocolError,
]);

/** True when a client may reconnect after this close code without outside help. */
export function shouldReconnect(code: number): boolean {
  return !noBlindRetry.has(code);
}
