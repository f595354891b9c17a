/**
 * Every error the SDK raises or emits, in one catalogue. Each class sets `name`
 * and carries a stable `code`, so applications can branch on either without
 * parsing messages.
 */

export const ClientErrorCode = {
  Config: 'config',
  Unauthorized: 'unauthorized',
  ProtocolViolation: 'protocol_violation',
  OfflineQueueFull: 'offline_queue_full',
  PublishRejected: 'publish_rejected',
  PayloadTooLarge: 'payload_too_large',
  ClientClosed: 'client_closed',
  TokenFailed: 'token_failed',
  HandlerFailed: 'handler_failed',
  StoreFailed: 'store_failed',
  ServerError: 'server_error',
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Base class of every SDK error. */
export class AgentwireClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentwireClientError';
    this.code = code;
  }
}

/** An option is missing or out of range; thrown by the constructor. */
export class ConfigError extends AgentwireClientError {
  constructor(message: string) {
    super(ClientErrorCode.Config, message);
    this.name = 'ConfigError';
  }
}

/** The server refused the token twice in a row (close 4001), even after a fresh `getToken()`. */
export class UnauthorizedError extends AgentwireClientError {
  readonly closeReason: string;

  constructor(closeReason: string) {
    super(
      ClientErrorCode.Unauthorized,
      `server refused the token (close 4001) after a fresh getToken(): ${closeReason || 'no reason given'}`,
    );
    this.name = 'UnauthorizedError';
    this.closeReason = closeReason;
  }
}

/** The server closed with 4400: the client sent something the protocol forbids. Not retried. */
export class ProtocolViolationError extends AgentwireClientError {
  readonly closeReason: string;

  constructor(closeReason: string) {
    super(
      ClientErrorCode.ProtocolViolation,
      `server closed the connection for a protocol violation (close 4400): ${closeReason || 'no reason given'}`,
    );
    this.name = 'ProtocolViolationError';
    this.closeReason = closeReason;
  }
}

/** `publish()` while offline with `maxOfflineQueue` messages already waiting. */
export class OfflineQueueFullError extends AgentwireClientError {
  readonly limit: number;

  constructor(limit: number) {
    super(
      ClientErrorCode.OfflineQueueFull,
      `offline publish queue is full (${limit} messages waiting for a connection)`,
    );
    this.name = 'OfflineQueueFullError';
    this.limit = limit;
  }
}

/** The server answered a publish with an `error` frame carrying its id. */
export class PublishRejectedError extends AgentwireClientError {
  readonly id: string;
  /** The server's error code (protocol ErrorCode, e.g. `rate_limited`). */
  readonly serverCode: string;

  constructor(id: string, serverCode: string, message: string) {
    super(ClientErrorCode.PublishRejected, `publish ${id} rejected (${serverCode}): ${message}`);
    this.name = 'PublishRejectedError';
    this.id = id;
    this.serverCode = serverCode;
  }
}

/** A publish frame would exceed the server's `maxPayload` (it would close the socket with 4009). */
export class PayloadTooLargeError extends AgentwireClientError {
  readonly bytes: number;
  readonly maxPayload: number;

  constructor(bytes: number, maxPayload: number) {
    super(
      ClientErrorCode.PayloadTooLarge,
      `publish frame is ${bytes} bytes, over the server's maxPayload of ${maxPayload}`,
    );
    this.name = 'PayloadTooLargeError';
    this.bytes = bytes;
    this.maxPayload = maxPayload;
  }
}

/** The client is closed (`disconnect()` or a fatal close): pending publishes are rejected with this. */
export class ClientClosedError extends AgentwireClientError {
  constructor(message = 'client is closed') {
    super(ClientErrorCode.ClientClosed, message);
    this.name = 'ClientClosedError';
  }
}

/** `getToken()` threw or rejected; the client retries with backoff. */
export class TokenError extends AgentwireClientError {
  constructor(cause: unknown) {
    super(ClientErrorCode.TokenFailed, `getToken() failed: ${describe(cause)}`, { cause });
    this.name = 'TokenError';
  }
}

/**
 * An application `event` handler threw or rejected. The event still counts as
 * processed (the position moves on), otherwise one bad event would block the
 * stream forever; catch inside the handler to retry on your side.
 */
export class HandlerError extends AgentwireClientError {
  readonly eventName: string;
  readonly seq: number | undefined;

  constructor(eventName: string, seq: number | undefined, cause: unknown) {
    super(
      ClientErrorCode.HandlerFailed,
      `event handler failed for ${eventName}${seq === undefined ? '' : ` (seq ${seq})`}: ${describe(cause)}`,
      { cause },
    );
    this.name = 'HandlerError';
    this.eventName = eventName;
    this.seq = seq;
  }
}

/** The position store failed to load or save; delivery goes on with the in-memory position. */
export class StoreError extends AgentwireClientError {
  constructor(operation: 'load' | 'save', cause: unknown) {
    super(ClientErrorCode.StoreFailed, `position store ${operation} failed: ${describe(cause)}`, {
      cause,
    });
    this.name = 'StoreError';
  }
}

/** An `error` frame from the server that answers no publish (e.g. a rate limit warning). */
export class ServerError extends AgentwireClientError {
  readonly serverCode: string;

  constructor(serverCode: string, message: string) {
    super(ClientErrorCode.ServerError, `server error (${serverCode}): ${message}`);
    this.name = 'ServerError';
    this.serverCode = serverCode;
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
