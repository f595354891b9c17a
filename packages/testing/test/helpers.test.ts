import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { RunTexts, signToken, uniquePrefix, waitUntil } from '../src/index.js';
import { OutputRing } from '../src/output-ring.js';

describe('uniquePrefix', () => {
  it('is short, unique, and free of braces and spaces', () => {
    const prefixes = Array.from({ length: 100 }, () => uniquePrefix('my {label} x'));
    expect(new Set(prefixes).size).toBe(100);
    for (const prefix of prefixes) {
      expect(prefix).toMatch(/^t-my--label--x-[0-9a-f]{8}$/);
    }
  });
});

describe('signToken', () => {
  it('signs an HS256 token with sub and exp that verifies with the secret', async () => {
    const secret = 'unit-secret-0123456789abcdef';
    const token = await signToken({ sub: 'user-1', secret, expiresInSec: 60 });
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret));
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('user-1');
    const nowSec = Math.floor(Date.now() / 1000);
    expect(payload.exp).toBeGreaterThan(nowSec + 50);
    expect(payload.exp).toBeLessThanOrEqual(nowSec + 61);
  });

  it('gives an expired token for a negative lifetime', async () => {
    const secret = 'unit-secret-0123456789abcdef';
    const token = await signToken({ sub: 'user-1', secret, expiresInSec: -10 });
    await expect(jwtVerify(token, new TextEncoder().encode(secret))).rejects.toThrow(/exp/);
  });
});

describe('OutputRing', () => {
  it('keeps the last complete lines plus the unfinished one', () => {
    const ring = new OutputRing(3);
    ring.write('one\ntw');
    ring.write('o\nthree\nfour\nfi');
    expect(ring.text()).toBe('two\nthree\nfour\nfi');
  });
});

describe('waitUntil', () => {
  it('resolves once the predicate holds and rejects after the timeout', async () => {
    let calls = 0;
    await waitUntil(() => ++calls >= 3, 1000, 1);
    expect(calls).toBe(3);
    await expect(waitUntil(() => false, 30, 5, 'never true')).rejects.toThrow(
      /never true not met within 30 ms/,
    );
  });
});

describe('RunTexts', () => {
  const append = (chunk: number, text: string) => ({
    type: 'event',
    runId: 'r1',
    stream: 'answer',
    chunk,
    append: text,
  });

  it('applies the chunk rule; a gap names the run once and waits for a snapshot', () => {
    const texts = new RunTexts();
    expect(texts.applyFrame(append(1, 'a'))).toBeUndefined();
    expect(texts.applyFrame(append(1, 'a'))).toBeUndefined();
    expect(texts.applyFrame(append(2, 'b'))).toBeUndefined();
    expect(texts.applyFrame(append(4, 'd'))).toBe('r1');
    expect(texts.applyFrame(append(5, 'e'))).toBeUndefined();
    expect(texts.text('r1', 'answer')).toBe('ab');
    texts.applyFrame({
      type: 'snapshot',
      runId: 'r1',
      streams: { answer: { text: 'abcd', chunks: 4, truncated: false } },
    });
    texts.applyFrame(append(4, 'd'));
    texts.applyFrame(append(5, 'e'));
    expect(texts.text('r1', 'answer')).toBe('abcde');
    expect(texts.gaps).toEqual(['r1/answer: chunk 4 after 2']);
  });
});
