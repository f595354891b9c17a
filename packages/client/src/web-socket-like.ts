/**
 * The slice of the WebSocket API the client uses. Both the browser's native
 * `WebSocket` and the `ws` package's class satisfy it, so Node callers inject
 * `ws` and browsers need nothing (the SDK itself never imports `ws`).
 *
 * The handler properties take `never` so that either implementation's own
 * event types fit; the client reads only `data`, `code` and `reason`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `WebSocket.OPEN`; the constant is not on every implementation's instances. */
export const WS_OPEN = 1;
