/**
 * Close code for a server-side failure (Redis unavailable while opening or
 * replaying): the standard WebSocket "internal error". Not one of the
 * contract's 4xxx codes, and clients reconnect after it, which is the intent:
 * the resume on a healthy node (or later) loses nothing.
 */
export const SERVER_ERROR_CLOSE = 1011;
