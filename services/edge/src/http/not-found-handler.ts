import { ErrorCode } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { replyJson, Status } from './respond.js';

/** Anything no route matched. */
export function notFoundHandler(res: HttpResponse, req: HttpRequest): void {
  const target = `${req.getMethod().toUpperCase()} ${req.getUrl()}`.slice(0, 200);
  replyJson(res, undefined, Status.notFound, {
    error: ErrorCode.NotFound,
    message: `no route for ${target}`,
  });
}
