import { ErrorCode } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { replyJson, Status } from './respond.js';

/**
 * CORS of the user-facing HTTP endpoints (GET /v1/sse, POST /v1/ack, POST
 * /v1/publish, GET /v1/history). The same rule as the WebSocket upgrade:
 * with ALLOWED_ORIGINS set, a request whose Origin is not listed is refused
 * (403); a request without Origin (servers, curl) is not subject to it.
 * Allowed cross-origin requests get Access-Control-Allow-Origin so a
 * browser page may read the answer.
 */
export interface UserCors {
  /** Headers for an answer to this Origin, or undefined when the origin is refused. */
  headers(origin: string): Record<string, string> | undefined;
  /** OPTIONS preflight handler. */
  preflight(res: HttpResponse, req: HttpRequest): void;
}

const NO_HEADERS: Record<string, string> = {};
const ALLOW_HEADERS = 'authorization, content-type, last-event-id';
const MAX_AGE_S = '600';

export function createUserCors(allowedOrigins: readonly string[]): UserCors {
  const allowed = new Set(allowedOrigins);
  const headers = (origin: string): Record<string, string> | undefined => {
    if (origin === '') return NO_HEADERS;
    if (allowed.size > 0 && !allowed.has(origin)) return undefined;
    return { 'access-control-allow-origin': origin, vary: 'origin' };
  };
  return {
    headers,
    preflight: (res, req) => {
      const cors = headers(req.getHeader('origin'));
      if (cors === undefined) {
        refuseOrigin(res);
        return;
      }
      res.cork(() => {
        res.writeStatus('204 No Content');
        for (const [name, value] of Object.entries(cors)) res.writeHeader(name, value);
        res
          .writeHeader('access-control-allow-methods', 'GET, POST, OPTIONS')
          .writeHeader('access-control-allow-headers', ALLOW_HEADERS)
          .writeHeader('access-control-max-age', MAX_AGE_S)
          .endWithoutBody();
      });
    },
  };
}

export function refuseOrigin(res: HttpResponse): void {
  replyJson(res, undefined, Status.forbidden, {
    error: ErrorCode.Forbidden,
    message: 'origin not allowed',
  });
}
