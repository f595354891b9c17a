import { ErrorCode } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { replyJson, Status } from './respond.js';
import { answerNonUpgrade } from './websocket-handshake.js';

/** The WebSocket endpoint (protocol.md section 1). */
const WS_PATH = '/v1/ws';

/**
 * Anything no route matched. uWS passes a request for the WebSocket path on
 * to here when it cannot upgrade it (another method, no usable key): those
 * get the handshake's error (400, 405 or 426) rather than 404.
 */
export function notFoundHandler(res: HttpResponse, req: HttpRequest): void {
  if (req.getUrl() === WS_PATH) {
    answerNonUpgrade(res, req);
    return;
  }
  const target = `${req.getMethod().toUpperCase()} ${req.getUrl()}`.slice(0, 200);
  replyJson(res, undefined, Status.notFound, {
    error: ErrorCode.NotFound,
    message: `no route for ${target}`,
  });
}
