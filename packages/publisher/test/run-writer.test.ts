import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpPublisher } from '../src/http-publisher.js';
import { PublishRejectedError, RunClosedError } from '../src/publisher-errors.js';
import { RunWriter, type RunOptions } from '../src/run-writer.js';
import { RecordingTransport } from './recording-transport.js';

const run = { userId: 'u1', runId: 'r7' };

function writer(options: Partial<RunOptions> = {}) {
  const transport = new RecordingTransport();
  return { transport, writer: new RunWriter(transport, { ...run, ...options }) };
}

/** [id, stream, append] of each append event of a batch; [id, name] of the others. */
function shape(batch: readonly { id: string; name: string; stream?: string; append?: string }[]) {
  return batch.map((e) => (e.append === undefined ? [e.id, e.name] : [e.id, e.stream, e.append]));
}

describe('RunWriter batching', () => {
  it('merges the appends of one window to a stream into one append event, in one POST', async () => {
    const { transport, writer: w } = writer({ batchMs: 20 });
    for (const token of ['Hel', 'lo', ' wor', 'ld']) w.append('answer', token);
    expect(transport.calls).toHaveLength(0);
    await sleep(60);
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0]).toEqual([
      {
        id: 'r7:answer:1',
        userId: 'u1',
        name: 'token',
        runId: 'r7',
        stream: 'answer',
        append: 'Hello world',
      },
    ]);
    expect(w.text('answer')).toBe('Hello world');
    expect(w.appendCount('answer')).toBe(1);
  });

  it('merges only appends in a row: interleaved streams keep their order', async () => {
    const { transport, writer: w } = writer({ batchMs: 10 });
    w.append('thinking', 'a');
    w.append('thinking', 'b');
    w.append('answer', 'c');
    w.append('thinking', 'd');
    await w.flush();
    expect(transport.calls.map(shape)).toEqual([
      [
        ['r7:thinking:1', 'thinking', 'ab'],
        ['r7:answer:1', 'answer', 'c'],
        ['r7:thinking:2', 'thinking', 'd'],
      ],
    ]);
  });

  it('publishes start, events and end at once, after the appends written before them, in one POST', async () => {
    const { transport, writer: w } = writer({ batchMs: 10_000, threadId: 't3' });
    await w.start({ prompt: 'hi' });
    w.append('answer', 'one ');
    w.append('answer', 'two');
    await w.event('tool_executing', { tool: 'search' }, { critical: true });
    w.append('answer', ' three');
    await w.end({ answerLength: 13 });
    expect(transport.calls.map(shape)).toEqual([
      [['r7:start', 'agent_started']],
      [
        ['r7:answer:1', 'answer', 'one two'],
        ['r7:#1', 'tool_executing'],
      ],
      [
        ['r7:answer:2', 'answer', ' three'],
        ['r7:end', 'agent_completed'],
      ],
    ]);
    expect(transport.calls[0]?.[0]).toEqual({
      id: 'r7:start',
      userId: 'u1',
      name: 'agent_started',
      runId: 'r7',
      critical: true,
      threadId: 't3',
      data: { prompt: 'hi' },
    });
    expect(transport.calls[1]?.[0]).toMatchObject({ threadId: 't3' });
    expect(transport.calls[2]?.[1]).toMatchObject({ critical: true, data: { answerLength: 13 } });
  });

  it('leaves critical unset on event() unless told, so the service decides', async () => {
    const { transport, writer: w } = writer();
    await w.event('note', { a: 1 });
    await w.event('other', undefined, { id: 'my-id', critical: false });
    expect(transport.calls.flat()).toEqual([
      { id: 'r7:#1', userId: 'u1', name: 'note', runId: 'r7', data: { a: 1 } },
      { id: 'my-id', userId: 'u1', name: 'other', runId: 'r7', critical: false },
    ]);
  });

  it('sends one POST at a time; appends made meanwhile gather into the next one', async () => {
    const { transport, writer: w } = writer({ batchMs: 5 });
    transport.hold();
    w.append('answer', 'a');
    await sleep(30);
    expect(transport.calls).toHaveLength(1);
    for (const token of ['b', 'c', 'd']) {
      w.append('answer', token);
      await sleep(15);
    }
    expect(transport.calls).toHaveLength(1);
    transport.release();
    await w.flush();
    expect(transport.maxInFlight).toBe(1);
    expect(transport.calls.map(shape)).toEqual([
      [['r7:answer:1', 'answer', 'a']],
      [['r7:answer:2', 'answer', 'bcd']],
    ]);
  });

  it('publishes without waiting for the window once maxBatchBytes are gathered', async () => {
    const { transport, writer: w } = writer({ batchMs: 10_000, maxBatchBytes: 10 });
    w.append('answer', '12345');
    expect(transport.calls).toHaveLength(0);
    w.append('answer', '67890');
    await sleep(0);
    expect(transport.calls.map(shape)).toEqual([[['r7:answer:1', 'answer', '1234567890']]]);
  });

  it('splits text over maxAppendBytes at character boundaries', async () => {
    const { transport, writer: w } = writer({ maxAppendBytes: 5 });
    // é is 2 bytes, 😀 4 bytes (a surrogate pair).
    w.append('main', 'abcé😀d');
    w.append('main', 'ef');
    await w.flush();
    const appends = transport.appendsOf('main').map((e) => e.append ?? '');
    expect(appends).toEqual(['abcé', '😀d', 'ef']);
    for (const text of appends) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(5);
    expect(transport.appendsOf('main').map((e) => e.id)).toEqual([
      'r7:main:1',
      'r7:main:2',
      'r7:main:3',
    ]);
    expect(w.appendCount('main')).toBe(3);
  });

  it('starts a new POST past 1000 events (the protocol limit per request)', async () => {
    const { transport, writer: w } = writer({ batchMs: 10_000 });
    for (let i = 0; i < 1001; i++) w.append(i % 2 === 0 ? 'a' : 'b', 'x');
    await w.flush();
    expect(transport.calls.map((batch) => batch.length)).toEqual([1000, 1]);
    expect(transport.textOf('a').length + transport.textOf('b').length).toBe(1001);
  });

  it('puts an event after 1000 gathered appends in a POST of its own', async () => {
    const { transport, writer: w } = writer({ batchMs: 10_000 });
    for (let i = 0; i < 1000; i++) w.append(i % 2 === 0 ? 'a' : 'b', 'x');
    await w.event('tool_executing');
    expect(transport.calls.map((batch) => batch.length)).toEqual([1000, 1]);
    expect(transport.calls[1]?.[0]?.name).toBe('tool_executing');
  });
});

describe('RunWriter text', () => {
  it('holds back a high surrogate that ends an append until its low half comes', async () => {
    const { transport, writer: w } = writer();
    const rocket = '🚀';
    w.append('answer', `go ${rocket[0]}`);
    expect(w.text('answer')).toBe('go ');
    await w.flush();
    expect(transport.textOf('answer')).toBe('go ');
    w.append('answer', `${rocket[1]}!`);
    await w.flush();
    expect(transport.appendsOf('answer').map((e) => e.append)).toEqual(['go ', '🚀!']);
    expect(w.text('answer')).toBe('go 🚀!');
  });

  it('drops a high surrogate still held at the end: it is not text', async () => {
    const { transport, writer: w } = writer();
    w.append('answer', 'x\uD83D');
    await w.end();
    expect(transport.textOf('answer')).toBe('x');
    expect(w.text('answer')).toBe('x');
  });

  it('refuses a lone surrogate inside the text, and keeps nothing of that append', async () => {
    const { transport, writer: w } = writer();
    w.append('answer', 'ok');
    expect(() => w.append('answer', 'a\uDC00b')).toThrow(TypeError);
    expect(() => w.append('answer', '\uD800b')).toThrow(TypeError);
    w.append('answer', '\uD83D');
    expect(() => w.append('answer', 'no low half')).toThrow(TypeError);
    w.append('answer', '\uDE80');
    await w.flush();
    expect(transport.textOf('answer')).toBe('ok🚀');
    expect(w.text('answer')).toBe('ok🚀');
  });

  it('refuses a stream name the protocol does not allow', () => {
    const { writer: w } = writer();
    expect(() => w.append('no spaces', 'x')).toThrow(RangeError);
  });

  it('publishes per stream exactly the text written, however it was cut (property)', async () => {
    const textOf = (chars: string[]) => chars.join('');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            stream: fc.constantFrom('a', 'b'),
            text: fc.string({ unit: 'binary', maxLength: 12 }),
            cut: fc.nat({ max: 24 }),
          }),
          { maxLength: 30 },
        ),
        fc.integer({ min: 4, max: 16 }),
        async (writes, maxAppendBytes) => {
          const { transport, writer: w } = writer({ maxAppendBytes, batchMs: 0 });
          const expected: Record<string, string[]> = { a: [], b: [] };
          for (const { stream, text, cut } of writes) {
            // Cut anywhere, even between the halves of a pair, as a caller might.
            const at = Math.min(cut, text.length);
            w.append(stream, text.slice(0, at));
            w.append(stream, text.slice(at));
            expected[stream]?.push(text);
          }
          await w.flush();
          for (const stream of ['a', 'b']) {
            const appends = transport.appendsOf(stream).map((e) => e.append ?? '');
            expect(appends.join('')).toBe(textOf(expected[stream] ?? []));
            expect(w.text(stream)).toBe(textOf(expected[stream] ?? []));
            for (const text of appends) {
              // Survives UTF-8 (what the service keeps) unchanged: no lone surrogate.
              expect(Buffer.from(text).toString()).toBe(text);
              expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxAppendBytes);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('RunWriter ids and retries', () => {
  it('sends a failed batch again with the same events and ids, and new text after it', async () => {
    const { transport, writer: w } = writer({ batchMs: 10_000 });
    transport.failures.push(new Error('ingest answered 503'));
    w.append('answer', 'Hel');
    await expect(w.flush()).rejects.toThrow('ingest answered 503');
    w.append('answer', 'lo');
    await w.flush();
    expect(transport.calls.map(shape)).toEqual([
      [['r7:answer:1', 'answer', 'Hel']],
      [['r7:answer:1', 'answer', 'Hel']],
      [['r7:answer:2', 'answer', 'lo']],
    ]);
    expect(transport.calls[1]).toEqual(transport.calls[0]);
    expect(transport.textOf('answer')).toBe('Hello');
  });

  it('keeps each event once when a 202 was lost and the batch sent again', async () => {
    const { transport, writer: w } = writer();
    await w.start();
    transport.lostAnswers = 1;
    w.append('answer', 'abc');
    await expect(w.event('tool_executing')).rejects.toThrow('fetch failed');
    w.append('answer', 'def');
    await w.end();
    expect(transport.calls).toHaveLength(4);
    expect(transport.calls[2]).toEqual(transport.calls[1]);
    expect(transport.kept.map((e) => e.id)).toEqual([
      'r7:start',
      'r7:answer:1',
      'r7:#1',
      'r7:answer:2',
      'r7:end',
    ]);
    expect(transport.textOf('answer')).toBe(w.text('answer'));
  });

  it('retries a background batch that failed when more text comes', async () => {
    const { transport, writer: w } = writer({ batchMs: 5 });
    transport.failures.push(new Error('network down'));
    w.append('answer', 'a');
    await sleep(30);
    expect(transport.calls).toHaveLength(1);
    w.append('answer', 'b');
    await sleep(30);
    expect(transport.calls.map(shape)).toEqual([
      [['r7:answer:1', 'answer', 'a']],
      [['r7:answer:1', 'answer', 'a']],
      [['r7:answer:2', 'answer', 'b']],
    ]);
  });

  it('retries through HttpPublisher with the very same request body', async () => {
    const bodies: string[] = [];
    const publisher = new HttpPublisher({
      url: 'http://127.0.0.1:1',
      token: 't',
      attempts: 3,
      fetch: async (_url, init) => {
        bodies.push(String(init?.body));
        if (bodies.length === 1) throw new TypeError('fetch failed');
        return new Response('{"accepted":2}', { status: 202 });
      },
    });
    const w = publisher.run({ ...run, batchMs: 10_000 });
    w.append('answer', 'Hi');
    await w.end();
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect(JSON.parse(bodies[0] ?? '')).toEqual([
      {
        id: 'r7:answer:1',
        userId: 'u1',
        name: 'token',
        runId: 'r7',
        stream: 'answer',
        append: 'Hi',
      },
      { id: 'r7:end', userId: 'u1', name: 'agent_completed', runId: 'r7', critical: true },
    ]);
  });

  it('fails for good on a refused batch: every later call reports it', async () => {
    const { transport, writer: w } = writer();
    const refused = new PublishRejectedError(400, { errors: ['bad'] });
    transport.failures.push(refused);
    w.append('answer', 'x');
    await expect(w.flush()).rejects.toBe(refused);
    expect(() => w.append('answer', 'y')).toThrow(refused);
    await expect(w.flush()).rejects.toBe(refused);
    await expect(w.end()).rejects.toBe(refused);
    expect(transport.calls).toHaveLength(1);
  });

  it('fails for good once its signal aborts', async () => {
    const stop = new AbortController();
    const publisher = new HttpPublisher({
      url: 'http://127.0.0.1:1',
      token: 't',
      fetch: async () => new Response('{}', { status: 503, headers: { 'retry-after': '5' } }),
    });
    const w = publisher.run({ ...run, signal: stop.signal });
    const started = w.start();
    setTimeout(() => stop.abort(), 20);
    await expect(started).rejects.toMatchObject({ name: 'AbortError' });
    expect(() => w.append('answer', 'x')).toThrow(expect.objectContaining({ name: 'AbortError' }));
  });

  it('refuses writes after the end, and a second start', async () => {
    const { writer: w } = writer();
    await w.start();
    await expect(w.start()).rejects.toThrow('already started');
    await w.error({ message: 'tool failed' });
    expect(() => w.append('answer', 'late')).toThrow(RunClosedError);
    await expect(w.end()).rejects.toBeInstanceOf(RunClosedError);
    await expect(w.event('x')).rejects.toBeInstanceOf(RunClosedError);
  });

  it('ids stay within 128 characters: a long run id is hashed into the prefix', async () => {
    const runId = 'r'.repeat(128);
    const { transport, writer: w } = writer({ runId });
    const stream = 's'.repeat(64);
    w.append(stream, 'x');
    await w.end();
    const ids = transport.calls.flat().map((e) => e.id);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(128);
    expect(ids[0]).toMatch(/^h\.[A-Za-z0-9_-]{32}:s{64}:1$/);
    expect(ids[1]).toBe(`${ids[0]?.split(':')[0]}:end`);
    expect(new RunWriter(transport, { ...run, runId }).runId).toBe(runId);
    expect(() => new RunWriter(transport, { ...run, idPrefix: 'p'.repeat(41) })).toThrow(
      RangeError,
    );
  });
});
