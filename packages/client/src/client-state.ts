/**
 * The client's connection states. One string union, changed only through the
 * client's `setState`, which emits `state` with `{ oldState, newState }`.
 *
 * - `connecting`: `connect()` was called and no welcome has arrived yet (first
 *   attempt and its retries).
 * - `connected`: a welcome arrived on the current socket; events flow.
 * - `reconnecting`: a connection that had been welcomed was lost; retrying with
 *   backoff and resuming from the last processed seq.
 * - `closed`: not connected and not trying: before `connect()`, after
 *   `disconnect()`, or after a close that must not be retried blindly
 *   (4001 twice, 4400).
 */
export const ClientState = {
  Connecting: 'connecting',
  Connected: 'connected',
  Reconnecting: 'reconnecting',
  Closed: 'closed',
} as const;

export type ClientState = (typeof ClientState)[keyof typeof ClientState];

export interface StateChange {
  oldState: ClientState;
  newState: ClientState;
}

/** Every move the client may make; anything else is a bug in the client. */
const allowed: Readonly<Record<ClientState, readonly ClientState[]>> = {
  closed: ['connecting'],
  connecting: ['connected', 'closed'],
  connected: ['reconnecting', 'closed'],
  reconnecting: ['connected', 'closed'],
};

export function isAllowedTransition(from: ClientState, to: ClientState): boolean {
  return allowed[from].includes(to);
}
