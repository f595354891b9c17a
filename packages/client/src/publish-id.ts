/**
 * A random publish id (the server's idempotency key): 128 bits from the Web
 * Crypto API, present in browsers (also on plain http, unlike randomUUID) and
 * in Node 20 as `globalThis.crypto`.
 */
export function randomPublishId(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } })
    .crypto;
  if (crypto?.getRandomValues !== undefined) {
    crypto.getRandomValues(bytes);
  } else {
    // Last resort for exotic runtimes; uniqueness, not secrecy, is what matters here.
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  }
  let hex = 'm-';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
