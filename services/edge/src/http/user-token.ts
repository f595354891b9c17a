import { parseBearer } from './bearer.js';

/**
 * The user JWT of a user-facing HTTP request (protocol.md section 10):
 * `Authorization: Bearer <jwt>`, or `?token=<jwt>` for clients that cannot
 * set headers (the browser's EventSource). The header wins when both are
 * present. Undefined when neither is usable.
 */
export function userTokenOf(authorization: string, query: URLSearchParams): string | undefined {
  if (authorization !== '') return parseBearer(authorization);
  const token = query.get('token');
  return token === null || token === '' || token.length > 8192 ? undefined : token;
}
