import { createHash, timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function parseBearer(header: string): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * Compares a request's bearer token with the expected one in constant time
 * (hashing first gives equal lengths, so the length does not leak either).
 */
export function createBearerCheck(expected: string): (header: string) => boolean {
  const expectedDigest = createHash('sha256').update(expected).digest();
  return (header) => {
    const token = parseBearer(header);
    if (token === undefined) return false;
    return timingSafeEqual(createHash('sha256').update(token).digest(), expectedDigest);
  };
}
