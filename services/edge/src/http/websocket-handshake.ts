import { ErrorCode } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { replyJson, Status } from './respond.js';

/** Why an opening handshake is refused, as an HTTP answer. */
export interface HandshakeProblem {
  status: string;
  error: string;
  message: string;
  headers?: Record<string, string>;
}

export interface HandshakeHeaders {
  method: string;
  upgrade: string;
  version: string;
  key: string;
}

/** A Sec-WebSocket-Key is the base64 of 16 bytes (RFC 6455 section 4.1). */
const KEY_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Checks an opening handshake against RFC 6455 section 4.2.1. uWS upgrades
 * any GET with a 24-character key; it checks neither the Upgrade header nor
 * the version, so the edge does.
 */
export function handshakeProblem(headers: HandshakeHeaders): HandshakeProblem | undefined {
  if (headers.method.toUpperCase() !== 'GET') {
    return {
      status: Status.methodNotAllowed,
      error: ErrorCode.BadRequest,
      message: 'the WebSocket endpoint takes GET with an Upgrade: websocket handshake',
      headers: { allow: 'GET' },
    };
  }
  if (!/(^|,)\s*websocket\s*(,|$)/i.test(headers.upgrade)) {
    return {
      status: Status.upgradeRequired,
      error: ErrorCode.BadRequest,
      message: 'expected a WebSocket handshake (Upgrade: websocket)',
      headers: { upgrade: 'websocket', 'sec-websocket-version': '13' },
    };
  }
  if (headers.version.trim() !== '13') {
    return {
      status: Status.upgradeRequired,
      error: ErrorCode.BadRequest,
      message: 'unsupported Sec-WebSocket-Version; this server speaks 13',
      headers: { 'sec-websocket-version': '13' },
    };
  }
  if (!KEY_PATTERN.test(headers.key)) {
    return {
      status: Status.badRequest,
      error: ErrorCode.BadRequest,
      message: 'Sec-WebSocket-Key missing or not the base64 of 16 bytes',
    };
  }
  return undefined;
}

/** Answers a refused handshake (corked, so it is safe after an await too). */
export function refuseHandshake(res: HttpResponse, problem: HandshakeProblem): void {
  replyJson(
    res,
    undefined,
    problem.status,
    { error: problem.error, message: problem.message },
    { headers: problem.headers, closeConnection: true },
  );
}

/**
 * A request to the WebSocket path that uWS did not hand to the upgrade
 * handler (another method, or a GET without a usable Sec-WebSocket-Key):
 * the handshake's own error instead of a bare 404.
 */
export function answerNonUpgrade(res: HttpResponse, req: HttpRequest): void {
  const problem = handshakeProblem({
    method: req.getMethod(),
    upgrade: req.getHeader('upgrade'),
    version: req.getHeader('sec-websocket-version'),
    key: req.getHeader('sec-websocket-key'),
  }) ?? {
    status: Status.badRequest,
    error: ErrorCode.BadRequest,
    message: 'malformed WebSocket handshake',
  };
  refuseHandshake(res, problem);
}
