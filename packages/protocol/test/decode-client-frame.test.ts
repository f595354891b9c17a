import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloseCode, decodeClientFrame, ErrorCode, type DecodeResult } from '../src/index.js';
import { expectedDecode, MAX_DEPTH } from './frame-contract.js';

const RUNS = 1000;

/** Decodes and checks the result against the contract's rules for the same text. */
function checkAgainstContract(text: string): DecodeResult {
  let result: DecodeResult | undefined;
  expect(() => {
    result = decodeClientFrame(text);
  }).not.toThrow();
  const decoded = result as DecodeResult;
  let parsed: unknown;
  let isJson = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (!isJson) {
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.code).toBe(ErrorCode.BadFrame);
    return decoded;
  }
  const expected = expectedDecode(parsed);
  expect(decoded.ok).toBe(expected.ok);
  if (expected.ok && decoded.ok) {
    expect(decoded.frame).toStrictEqual(expected.frame);
  }
  if (!expected.ok && !decoded.ok) {
    // Every refusal of a client frame closes 4400 (section 5); the handler maps pre-hello cases to 4001.
    expect(decoded.error.closeCode).toBe(CloseCode.ProtocolError);
    expect(decoded.error.code).toBe(
      expected.unknownType ? ErrorCode.UnknownType : ErrorCode.BadFrame,
    );
    expect(typeof decoded.error.message).toBe('string');
    expect(decoded.error.message.length).toBeGreaterThan(0);
    expect(decoded.error.id).toBe(expected.id);
  }
  return decoded;
}

/** Nests `inner` in `depth` arrays. */
function nestArrays(depth: number, inner: unknown = 0): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Values that sit on either side of every bound of the frame fields. */
const fieldValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(
    0.5,
    -1,
    1e21,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 1,
    Number.MIN_SAFE_INTEGER,
    2 ** 53 + 2,
  ),
  fc.nat(),
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom('', 'x'.repeat(64), 'x'.repeat(65), 'i'.repeat(128), 'i'.repeat(129)),
  fc.constantFrom('t'.repeat(8192), 't'.repeat(8193)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(nestArrays(MAX_DEPTH), nestArrays(MAX_DEPTH + 1), nestArrays(MAX_DEPTH - 1, {})),
);

const frameType = fc.oneof(
  fc.constantFrom('hello', 'ack', 'publish'),
  fc.constantFrom('welcome', 'event', 'HELLO', 'hello ', 'subscribe', '', '__proto__'),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined),
);

const frameObject = fc.record(
  {
    type: frameType,
    token: fieldValue,
    lastSeq: fieldValue,
    epoch: fieldValue,
    seq: fieldValue,
    id: fieldValue,
    threadId: fieldValue,
    data: fieldValue,
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: ['type'] },
);

describe('decodeClientFrame', () => {
  it('never throws on arbitrary strings and accepts only contract frames', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        checkAgainstContract(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses every JSON value that is not an object, with 4400 bad_frame', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const decoded = checkAgainstContract(JSON.stringify(value));
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          expect(decoded).toMatchObject({
            ok: false,
            error: { code: ErrorCode.BadFrame, closeCode: CloseCode.ProtocolError },
          });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('decodes objects of every type with random field values exactly as the contract says', () => {
    fc.assert(
      fc.property(frameObject, (frame) => {
        checkAgainstContract(JSON.stringify(frame));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed frame and drops unknown fields', () => {
    const seq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    const text = (max: number) => fc.string({ minLength: 1, maxLength: max });
    const wellFormed = fc.oneof(
      fc.record(
        { type: fc.constant('hello'), token: text(200), lastSeq: seq, epoch: text(64) },
        { requiredKeys: ['type'] },
      ),
      fc.record({ type: fc.constant('ack'), seq }),
      fc.record(
        {
          type: fc.constant('publish'),
          id: text(128),
          threadId: text(128),
          data: fc.jsonValue({ maxDepth: 5 }),
        },
        { requiredKeys: ['type', 'id', 'data'] },
      ),
    );
    fc.assert(
      fc.property(wellFormed, fc.jsonValue({ maxDepth: 2 }), (frame, junk) => {
        const decoded = decodeClientFrame(JSON.stringify({ ...frame, unknownField: junk }));
        expect(decoded).toStrictEqual({ ok: true, frame: JSON.parse(JSON.stringify(frame)) });
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    ['hello', { type: 'hello', lastSeq: -1 }],
    ['hello', { type: 'hello', lastSeq: 1.5 }],
    ['hello', { type: 'hello', lastSeq: '4' }],
    ['hello', { type: 'hello', lastSeq: null }],
    ['hello', { type: 'hello', lastSeq: Number.MAX_SAFE_INTEGER + 1 }],
    ['hello', { type: 'hello', lastSeq: 1, epoch: '' }],
    ['hello', { type: 'hello', lastSeq: 1, epoch: 'e'.repeat(65) }],
    ['hello', { type: 'hello', lastSeq: 1, epoch: 7 }],
    ['hello', { type: 'hello', token: '' }],
    ['ack', { type: 'ack' }],
    ['ack', { type: 'ack', seq: -1 }],
    ['ack', { type: 'ack', seq: 2.5 }],
    ['publish', { type: 'publish', data: 1 }],
    ['publish', { type: 'publish', id: '', data: 1 }],
    ['publish', { type: 'publish', id: 'i'.repeat(129), data: 1 }],
    ['publish', { type: 'publish', id: 'm-1' }],
  ])('refuses a malformed %s with 4400 bad_frame: %j', (_type, frame) => {
    expect(decodeClientFrame(JSON.stringify(frame))).toMatchObject({
      ok: false,
      error: { code: ErrorCode.BadFrame, closeCode: CloseCode.ProtocolError },
    });
  });

  it('accepts the bounds themselves', () => {
    const ok = (frame: object) => expect(decodeClientFrame(JSON.stringify(frame)).ok).toBe(true);
    ok({ type: 'hello', lastSeq: 0, epoch: 'e' });
    ok({ type: 'hello', lastSeq: Number.MAX_SAFE_INTEGER, epoch: 'e'.repeat(64) });
    ok({ type: 'ack', seq: 0 });
    ok({ type: 'publish', id: 'i'.repeat(128), data: null });
    ok({ type: 'publish', id: 'i', data: nestArrays(MAX_DEPTH) });
  });

  it('refuses publish data nested deeper than the limit, naming the frame id', () => {
    const decoded = decodeClientFrame(
      JSON.stringify({ type: 'publish', id: 'm-7', data: nestArrays(MAX_DEPTH + 1) }),
    );
    expect(decoded).toMatchObject({ ok: false, error: { id: 'm-7', closeCode: 4400 } });
  });

  it('refuses unknown and non-string types with 4400 unknown_type', () => {
    for (const type of ['subscribe', 'welcome', 'event', '', 'Hello']) {
      expect(decodeClientFrame(JSON.stringify({ type }))).toMatchObject({
        ok: false,
        error: { code: ErrorCode.UnknownType, closeCode: CloseCode.ProtocolError },
      });
    }
    for (const text of ['{}', '{"type":7}', '{"type":null}', '{"type":["hello"]}']) {
      expect(decodeClientFrame(text)).toMatchObject({
        ok: false,
        error: { code: ErrorCode.UnknownType, closeCode: CloseCode.ProtocolError },
      });
    }
  });

  it('keeps a long unknown type out of the message (bounded echo)', () => {
    const decoded = decodeClientFrame(JSON.stringify({ type: 'x'.repeat(10_000) }));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.error.message.length).toBeLessThan(100);
  });

  it('is not fooled by __proto__ or constructor keys', () => {
    expect(decodeClientFrame('{"__proto__":{"type":"ack","seq":1}}').ok).toBe(false);
    expect(decodeClientFrame('{"type":"ack","__proto__":{"seq":1}}').ok).toBe(false);
    expect(decodeClientFrame('{"type":"constructor"}')).toMatchObject({
      ok: false,
      error: { code: ErrorCode.UnknownType },
    });
    const decoded = decodeClientFrame('{"type":"hello","__proto__":{"lastSeq":-1},"lastSeq":3}');
    expect(decoded).toStrictEqual({ ok: true, frame: { type: 'hello', lastSeq: 3 } });
  });

  it('refuses 100 000 levels of nesting without overflowing the stack', () => {
    const depth = 100_000;
    const deepArray = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deepObject = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const publish = (data: string) => `{"type":"publish","id":"deep","data":${data}}`;
    for (const text of [deepArray, deepObject, publish(deepArray), publish(deepObject)]) {
      expect(() => decodeClientFrame(text)).not.toThrow();
      expect(decodeClientFrame(text).ok).toBe(false);
    }
    // Unterminated nesting is not JSON at all.
    expect(decodeClientFrame('['.repeat(depth))).toMatchObject({
      ok: false,
      error: { code: ErrorCode.BadFrame },
    });
  });
});
