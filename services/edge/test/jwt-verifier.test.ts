import { createHmac } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkToken, createJwtVerifier } from '../src/jwt-verifier.js';

const SECRET = 'test-secret-of-some-length';
const KEY = Buffer.from(SECRET);
const NOW = 1_800_000_000;

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** A compact JWS signed by hand, so headers and claims jose would refuse to sign can be tried. */
function handSigned(header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function joseSigned(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

const HS256 = { alg: 'HS256', typ: 'JWT' };

describe('checkToken (HS256, protocol.md section 1)', () => {
  it('accepts what jose signs and verifies, and gives the sub', async () => {
    const token = await joseSigned({ sub: 'user-1', iat: NOW - 10, exp: NOW + 60 });
    await expect(
      jwtVerify(token, new TextEncoder().encode(SECRET), { currentDate: new Date(NOW * 1000) }),
    ).resolves.toBeDefined();
    expect(checkToken(token, KEY, NOW)).toEqual({ ok: true, userId: 'user-1' });
  });

  it('refuses another secret, a changed payload and a changed signature', async () => {
    const other = await joseSigned({ sub: 'user-1', exp: NOW + 60 }, 'another-secret');
    expect(checkToken(other, KEY, NOW)).toEqual({ ok: false, reason: 'invalid token' });
    const token = await joseSigned({ sub: 'user-1', exp: NOW + 60 });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64({ sub: 'admin', exp: NOW + 60 })}.${signature}`;
    expect(checkToken(forged, KEY, NOW).ok).toBe(false);
    const flipped = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(checkToken(flipped, KEY, NOW).ok).toBe(false);
  });

  it('says expired at and after exp, valid the second before', () => {
    const token = handSigned(HS256, { sub: 'u', exp: NOW });
    expect(checkToken(token, KEY, NOW)).toEqual({ ok: false, reason: 'token expired' });
    expect(checkToken(token, KEY, NOW + 1)).toEqual({ ok: false, reason: 'token expired' });
    expect(checkToken(token, KEY, NOW - 1).ok).toBe(true);
  });

  it('refuses any algorithm but HS256, including none, and a crit header', () => {
    for (const header of [
      { alg: 'none' },
      { alg: 'HS512' },
      { alg: 'hs256' },
      { typ: 'JWT' },
      { alg: 'HS256', crit: ['b64'], b64: false },
      { alg: 'HS256', b64: false },
    ]) {
      expect(checkToken(handSigned(header, { sub: 'u', exp: NOW + 60 }), KEY, NOW)).toEqual({
        ok: false,
        reason: 'invalid token',
      });
    }
    const unsigned = `${b64({ alg: 'none' })}.${b64({ sub: 'u', exp: NOW + 60 })}.`;
    expect(checkToken(unsigned, KEY, NOW).ok).toBe(false);
  });

  it('needs a numeric exp and a string sub; honours nbf; checks iat is a number', () => {
    const invalid = { ok: false, reason: 'invalid token' };
    expect(checkToken(handSigned(HS256, { sub: 'u' }), KEY, NOW)).toEqual(invalid);
    expect(checkToken(handSigned(HS256, { sub: 'u', exp: `${NOW + 60}` }), KEY, NOW)).toEqual(
      invalid,
    );
    expect(checkToken(handSigned(HS256, { exp: NOW + 60 }), KEY, NOW)).toEqual(invalid);
    expect(checkToken(handSigned(HS256, { sub: 7, exp: NOW + 60 }), KEY, NOW)).toEqual(invalid);
    const notYet = handSigned(HS256, { sub: 'u', exp: NOW + 60, nbf: NOW + 5 });
    expect(checkToken(notYet, KEY, NOW)).toEqual(invalid);
    expect(checkToken(notYet, KEY, NOW + 5).ok).toBe(true);
    const badIat = handSigned(HS256, { sub: 'u', exp: NOW + 60, iat: 'yesterday' });
    expect(checkToken(badIat, KEY, NOW)).toEqual(invalid);
  });

  it('says why a well-signed sub is refused', () => {
    const token = handSigned(HS256, { sub: 'has space', exp: NOW + 60 });
    expect(checkToken(token, KEY, NOW)).toEqual({
      ok: false,
      reason: 'token sub must be 1-128 of [A-Za-z0-9._:@-]',
    });
  });

  it('refuses malformed tokens without throwing', () => {
    const good = handSigned(HS256, { sub: 'u', exp: NOW + 60 });
    const [header, payload, signature] = good.split('.') as [string, string, string];
    for (const token of [
      '',
      'abc',
      'a.b',
      `${good}.extra`,
      `${header}.${payload}.${signature}=`,
      `${header}!.${payload}.${signature}`,
      `${b64('[1]')}.${payload}.${signature}`,
      `${header}.${b64('not json')}.${signature}`,
      `${header}.${payload}.${'A'.repeat(86)}`,
      'x'.repeat(9000),
    ]) {
      expect(checkToken(token, KEY, NOW).ok).toBe(false);
    }
  });

  it('verifies through the async interface against the clock', async () => {
    const verifier = createJwtVerifier(SECRET);
    const now = Math.floor(Date.now() / 1000);
    await expect(verifier.verify(handSigned(HS256, { sub: 'u', exp: now + 60 }))).resolves.toEqual({
      ok: true,
      userId: 'u',
    });
    await expect(verifier.verify(handSigned(HS256, { sub: 'u', exp: now - 1 }))).resolves.toEqual({
      ok: false,
      reason: 'token expired',
    });
  });
});
