import { SignJWT } from 'jose';

export interface SignTokenOptions {
  /** The user id. */
  sub: string;
  /** The HS256 secret (JWT_SECRET of the edge under test). */
  secret: string;
  /** Seconds until `exp`; negative gives an already expired token. @default 3600 */
  expiresInSec?: number;
  /** @default 'HS256' */
  alg?: 'HS256';
}

/** Signs a client JWT the way protocol.md section 1 describes (claims sub, iat, exp). */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + (options.expiresInSec ?? 3600))
    .sign(new TextEncoder().encode(options.secret));
}
