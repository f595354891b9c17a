import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CRITICAL_EVENTS,
  Limits,
  validateIngestEvent,
  type IngestRules,
  type IngestValidation,
} from '../src/index.js';
import { depthOf, MAX_DEPTH } from './frame-contract.js';

const NOW = 1_764_150_000_123;
const rules: IngestRules = {
  maxEventBytes: Limits.defaultMaxEventBytes,
  criticalNames: new Set(DEFAULT_CRITICAL_EVENTS),
};

/** 1..max UTF-16 units: ASCII, or any code points (a surrogate pair counts 2). */
const text = (min: number, max: number) =>
  fc.oneof(
    fc.string({ minLength: min, maxLength: max }),
    fc.string({ unit: 'binary', minLength: min, maxLength: Math.floor(max / 2) }),
  );
const userId = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,128}$/);

/** Events that satisfy protocol.md section 6. */
const validEvent = fc.record(
  {
    id: text(1, Limits.maxEventIdLength),
    userId,
    name: fc.oneof(text(1, Limits.maxNameLength), fc.constantFrom(...DEFAULT_CRITICAL_EVENTS)),
    critical: fc.boolean(),
    runId: text(1, Limits.maxRunIdLength),
    threadId: text(1, Limits.maxThreadIdLength),
    data: fc.jsonValue({ maxDepth: 6 }),
  },
  { requiredKeys: ['id', 'userId', 'name'] },
);

function accepted(result: IngestValidation) {
  if (!result.ok) throw new Error(`expected acceptance, got: ${result.error}`);
  return result.event;
}

/** The event frame an accepted body stands for (the sequencer prepends `{"type":...,"seq":...,`). */
function frameOf(body: string): Record<string, unknown> {
  return JSON.parse(`{${body}`) as Record<string, unknown>;
}

describe('validateIngestEvent', () => {
  it('round-trips every valid event: the body is the event frame with ts and criticality', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const input = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
        const result = validateIngestEvent(input, rules, NOW);
        const out = accepted(result);
        const critical = event.critical ?? rules.criticalNames.has(event.name);
        expect(out).toMatchObject({ id: event.id, userId: event.userId, critical, ts: NOW });
        const expected: Record<string, unknown> = {
          id: event.id,
          critical,
          name: event.name,
          ts: NOW,
        };
        for (const key of ['runId', 'threadId', 'data'] as const) {
          if (input[key] !== undefined) expected[key] = input[key];
        }
        expect(frameOf(out.body)).toStrictEqual(expected);
        // The edge reads `"ts":` without parsing (delivery latency): ts must precede data.
        const keys = Object.keys(frameOf(out.body));
        expect(keys.slice(keys.indexOf('ts'))).toEqual('data' in input ? ['ts', 'data'] : ['ts']);
        // userId selects the inbox; it is not part of the frame the client sees.
        expect('userId' in frameOf(out.body)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses anything that breaks a field rule, with a message and nothing accepted', () => {
    const badField = fc.oneof(
      fc.record({ key: fc.constant('id'), value: badText(Limits.maxEventIdLength) }),
      fc.record({ key: fc.constant('userId'), value: badUserId() }),
      fc.record({ key: fc.constant('name'), value: badText(Limits.maxNameLength) }),
      fc.record({ key: fc.constant('critical'), value: notBoolean() }),
      fc.record({ key: fc.constant('runId'), value: badText(Limits.maxRunIdLength, true) }),
      fc.record({ key: fc.constant('threadId'), value: badText(Limits.maxThreadIdLength, true) }),
      fc.record({
        key: fc.constant('data'),
        value: fc.integer({ min: MAX_DEPTH + 1, max: 200 }).map((d) => nest(d)),
      }),
    );
    fc.assert(
      fc.property(validEvent, badField, (event, { key, value }) => {
        const input: Record<string, unknown> = { ...event, [key]: value };
        if (value === undefined) delete input[key];
        const result = validateIngestEvent(input, rules, NOW);
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.error.length).toBeGreaterThan(0);
          expect(result.tooLarge).not.toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses values that are not objects', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constant(null),
          fc.boolean(),
          fc.double(),
          fc.string(),
          fc.array(fc.jsonValue()),
        ),
        (value) => {
          const result = validateIngestEvent(value, rules, NOW);
          expect(result).toMatchObject({ ok: false, error: 'event must be a JSON object' });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('accepts a user id exactly when it is 1-128 characters of [A-Za-z0-9._:@-]', () => {
    const pattern = /^[A-Za-z0-9._:@-]{1,128}$/;
    const candidate = fc.oneof(
      userId,
      fc.string({ unit: 'binary', maxLength: 140 }),
      fc.constantFrom('', 'u'.repeat(129), 'u1\n', '\nu1', 'u 1', 'u/1', 'ü', 'u1\u0000'),
    );
    fc.assert(
      fc.property(candidate, (id) => {
        const result = validateIngestEvent({ id: 'e1', userId: id, name: 'n' }, rules, NOW);
        expect(result.ok).toBe(pattern.test(id));
      }),
      { numRuns: 1000 },
    );
  });

  it('takes criticality from the event, else from the configured name list', () => {
    const custom: IngestRules = { ...rules, criticalNames: new Set(['milestone']) };
    const check = (name: string, critical: boolean | undefined, expected: boolean) => {
      const event = { id: 'e', userId: 'u', name, ...(critical === undefined ? {} : { critical }) };
      const out = accepted(validateIngestEvent(event, custom, NOW));
      expect(out.critical).toBe(expected);
      expect(frameOf(out.body).critical).toBe(expected);
    };
    check('milestone', undefined, true);
    check('tool_executing', undefined, false);
    check('milestone', false, false);
    check('token_delta', true, true);
    for (const name of DEFAULT_CRITICAL_EVENTS) {
      expect(
        accepted(validateIngestEvent({ id: 'e', userId: 'u', name }, rules, NOW)).critical,
      ).toBe(true);
    }
    expect(
      accepted(validateIngestEvent({ id: 'e', userId: 'u', name: 'token_delta' }, rules, NOW))
        .critical,
    ).toBe(false);
  });

  it('limits the serialised event in bytes, counting multi-byte UTF-8', () => {
    const bodyBytes = (data: string) =>
      Buffer.byteLength(
        JSON.stringify({ id: 'e', critical: false, name: 'n', ts: NOW, data }).slice(1),
      );
    // A limit that leaves room for exactly 200 'é' (2 bytes, 1 UTF-16 unit) or 100 emoji (4 bytes).
    const limit = bodyBytes('') + 400;
    const small: IngestRules = { ...rules, maxEventBytes: limit };
    const event = (data: string) => ({ id: 'e', userId: 'u', name: 'n', critical: false, data });
    const fits = 'é'.repeat(200);
    expect(bodyBytes(fits)).toBe(limit);
    expect(validateIngestEvent(event(fits), small, NOW).ok).toBe(true);
    expect(validateIngestEvent(event(`${fits}a`), small, NOW)).toMatchObject({
      ok: false,
      tooLarge: true,
    });
    expect(validateIngestEvent(event(`${fits}é`), small, NOW)).toMatchObject({
      ok: false,
      tooLarge: true,
    });
    // The same string length in ASCII is far under the limit.
    expect(validateIngestEvent(event('a'.repeat(fits.length + 1)), small, NOW).ok).toBe(true);
    const emoji = '😀'.repeat(100);
    expect(bodyBytes(emoji)).toBe(limit);
    expect(validateIngestEvent(event(emoji), small, NOW).ok).toBe(true);
    expect(validateIngestEvent(event(`${emoji}a`), small, NOW).ok).toBe(false);
    // 3 bytes in one UTF-16 unit: over the limit in bytes although twice its length is under it.
    const euros = '€'.repeat(150);
    expect(bodyBytes(euros)).toBeGreaterThan(limit);
    expect(2 * (bodyBytes(euros) - 2 * euros.length)).toBeLessThanOrEqual(limit);
    expect(validateIngestEvent(event(euros), small, NOW)).toMatchObject({ tooLarge: true });
    expect(validateIngestEvent(event('€'.repeat(133)), small, NOW).ok).toBe(true);
    // Escapes count as written: a quote takes 2 bytes.
    const quotes = '"'.repeat(200);
    expect(validateIngestEvent(event(quotes), small, NOW).ok).toBe(true);
    expect(validateIngestEvent(event(`${quotes}a`), small, NOW).ok).toBe(false);
  });

  it('refuses data nested deeper than the limit, however deep, without overflowing the stack', () => {
    const event = (data: unknown) => ({ id: 'e', userId: 'u', name: 'n', data });
    expect(validateIngestEvent(event(nest(MAX_DEPTH)), rules, NOW).ok).toBe(true);
    expect(validateIngestEvent(event(nest(MAX_DEPTH + 1)), rules, NOW).ok).toBe(false);
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(() => validateIngestEvent(event(deep), rules, NOW)).not.toThrow();
    expect(validateIngestEvent(event(deep), rules, NOW).ok).toBe(false);
  });

  it('agrees with a reference depth for random data', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 40 }), (data) => {
        const result = validateIngestEvent({ id: 'e', userId: 'u', name: 'n', data }, rules, NOW);
        const tooBig = Buffer.byteLength(JSON.stringify(data)) > rules.maxEventBytes - 100;
        if (!tooBig) expect(result.ok).toBe(depthOf(data) <= MAX_DEPTH);
      }),
      { numRuns: 500 },
    );
  });
});

/** Strings (and non-strings) outside 1..max characters; `optional` fields accept absence. */
function badText(max: number, optional = false) {
  const values = fc.oneof(
    fc.constant(''),
    fc.string({ minLength: max + 1, maxLength: max + 20 }),
    fc.constant(null),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 2 }),
  );
  return optional ? values : fc.oneof(values, fc.constant(undefined));
}

function badUserId() {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.constant(42),
    fc.string({ minLength: 129, maxLength: 140 }).map((s) => s.replace(/[^A-Za-z0-9]/g, 'a')),
    fc.string({ maxLength: 20 }).map((s) => `${s} `),
    fc.constantFrom('ü', 'a/b', 'a\nb', 'u1\n'),
  );
}

function notBoolean() {
  return fc.oneof(fc.constant(null), fc.constantFrom('true', 'yes', 1, 0), fc.object());
}

function nest(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { k: value };
  return value;
}
