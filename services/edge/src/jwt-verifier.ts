import { createHmac, timingSafeEqual } from 'node:crypto';
import { Limits } from '@agentwire/protocol';

export type TokenCheck = { ok: true; userId: string } | { ok: false; reason: string };

export interface JwtVerifier {
  /** Never throws: a bad, expired or malformed token comes back as `{ ok: false }`. */
  verify(token: string): Promise<TokenCheck>;
}

const INVALID: TokenCheck = { ok: false, reason: 'invalid token' };
const EXPIRED: TokenCheck = { ok: false, reason: 'token expired' };
const BAD_SUB: TokenCheck = { ok: false, reason: 'token sub must be 1-128 of [A-Za-z0-9._:@-]' };
/** HMAC-SHA256 is 32 bytes: 43 base64url characters without padding. */
const SIGNATURE_CHARS = 43;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Client tokens, protocol.md section 1: a compact JWS, HS256 with
 * JWT_SECRET, `sub` is the user id (the only way a connection selects a
 * user), `exp` required, `nbf` honoured when present.
 *
 * Verified here with node:crypto's synchronous HMAC. jose (6.x) verifies
 * through WebCrypto, whose every call is a job on libuv's thread pool and a
 * promise: profiled in a 2,000-client resume storm, a fifth of the edge's
 * busy time, each hop to the pool and back a wake-up on a 2-core VM. The
 * check is the same as jose's for this one algorithm: header `alg` exactly
 * HS256 and no `crit`, signature compared in constant time, numeric `exp`
 * in the future and `nbf` (if any) not, `sub` a valid user id.
 */
export function createJwtVerifier(secret: string): JwtVerifier {
  const key = Buffer.from(secret, 'utf8');
  return {
    verify(token) {
      return Promise.resolve(checkToken(token, key, Math.floor(Date.now() / 1000)));
    },
  };
}

/** The synchronous check, exported for tests: `nowSec` is the current time in whole seconds. */
export function checkToken(token: string, key: Buffer, nowSec: number): TokenCheck {
  if (typeof token !== 'string' || token.length > Limits.maxTokenLength) return INVALID;
  const firstDot = token.indexOf('.');
  const secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
  if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return INVALID;
  const signature = token.slice(secondDot + 1);
  if (signature.length !== SIGNATURE_CHARS || !BASE64URL.test(signature)) return INVALID;
  const headerPart = token.slice(0, firstDot);
  const payloadPart = token.slice(firstDot + 1, secondDot);
  if (!BASE64URL.test(headerPart) || !BASE64URL.test(payloadPart)) return INVALID;

  const header = decodeJsonObject(headerPart);
  if (header === undefined || header.alg !== 'HS256' || header.crit !== undefined) return INVALID;
  // RFC 7797's unencoded payload is only valid with `crit`, which is refused.
  if (header.b64 !== undefined && header.b64 !== true) return INVALID;
  const expected = createHmac('sha256', key).update(token.slice(0, secondDot)).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return INVALID;

  const payload = decodeJsonObject(payloadPart);
  if (payload === undefined) return INVALID;
  const { exp, nbf, iat, sub } = payload;
  if (!isNumber(exp) || !isOptionalNumber(nbf) || !isOptionalNumber(iat)) return INVALID;
  if (typeof sub !== 'string') return INVALID;
  if (exp <= nowSec) return EXPIRED;
  if (nbf !== undefined && nbf > nowSec) return INVALID;
  if (!Limits.userIdPattern.test(sub)) return BAD_SUB;
  return { ok: true, userId: sub };
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isOptionalNumber(value: unknown): value is number | undefined {
  return value === undefined || isNumber(value);
}

/** A base64url JSON object, or undefined when it is not one. */
function decodeJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
