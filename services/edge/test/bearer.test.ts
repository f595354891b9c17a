import { describe, expect, it } from 'vitest';
import { createBearerCheck, parseBearer } from '../src/http/bearer.js';

describe('bearer tokens', () => {
  it('parses Authorization: Bearer', () => {
    expect(parseBearer('Bearer abc.def')).toBe('abc.def');
    expect(parseBearer('bearer abc')).toBe('abc');
    expect(parseBearer('Basic abc')).toBeUndefined();
    expect(parseBearer('Bearer')).toBeUndefined();
    expect(parseBearer('')).toBeUndefined();
  });

  it('matches only the expected token', () => {
    const check = createBearerCheck('secret-token');
    expect(check('Bearer secret-token')).toBe(true);
    expect(check('Bearer secret-token2')).toBe(false);
    expect(check('Bearer secret')).toBe(false);
    expect(check('')).toBe(false);
  });
});
