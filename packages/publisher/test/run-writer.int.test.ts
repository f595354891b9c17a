import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, uniquePrefix, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPublisher } from '../src/http-publisher.js';
import { connectAs, expectRunExact, runFrames } from './support/run-frames.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

function publisher(fetchImpl?: typeof fetch): HttpPublisher {
  const edge = stack.edges[0];
  if (!edge) throw new Error('the stack has no edge');
  return new HttpPublisher({
    url: edge.url,
    token: stack.env.INGEST_TOKEN ?? '',
    ...(fetchImpl && { fetch: fetchImpl }),
  });
}

/** Tokens as a model emits them, with an emoji cut between its two UTF-16 halves. */
const answerTokens = [
  'Ça',
  ' mar',
  'che',
  ' —',
  ' 日本',
  '語',
  ' ',
  '🚀'[0] ?? '',
  '🚀'[1] ?? '',
  '.',
];

describe('RunWriter against a real stack', () => {
  it('delivers each stream exactly: appends join to the writer text, chunks 1..n', async () => {
    const userId = uniquePrefix('run');
    const client = await connectAs(stack, userId);
    const writer = publisher().run({ userId, runId: 'r1', threadId: 't1', batchMs: 10 });
    await writer.start({ prompt: 'hi' });
    for (const token of ['Let', ' me', ' think', '.']) {
      writer.append('thinking', token);
      await sleep(7);
    }
    await writer.event('tool_executing', { tool: 'search' });
    for (let round = 0; round < 5; round++) {
      for (const token of answerTokens) {
        writer.append('answer', token);
        if (token !== '🚀'[0]) await sleep(3);
      }
    }
    await writer.end({ answerLength: writer.text('answer').length });

    await client.waitFor((frame) => frame.runId === 'r1' && frame.name === 'agent_completed');
    const frames = runFrames(client, 'r1');
    expect(frames[0]).toMatchObject({ name: 'agent_started', critical: true, threadId: 't1' });
    expect(frames.at(-1)).toMatchObject({ name: 'agent_completed', critical: true });
    expect(writer.text('answer')).toBe(answerTokens.join('').repeat(5));
    await expectRunExact({ stack, userId, client, runId: 'r1' }, writer.texts(), {
      thinking: writer.appendCount('thinking'),
      answer: writer.appendCount('answer'),
    });
    // The window merged tokens: fewer append events than tokens.
    expect(writer.appendCount('answer')).toBeLessThan(answerTokens.length * 5);
    await client.close();
  });

  it('keeps each append once when a 202 is lost and the same batch is posted again', async () => {
    const userId = uniquePrefix('lost202');
    const client = await connectAs(stack, userId);
    let posts = 0;
    // The second POST reaches the service, but its answer is lost on the way back.
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (++posts !== 2) return response;
      await response.arrayBuffer();
      throw new TypeError('fetch failed');
    };
    const writer = publisher(lossy).run({ userId, runId: 'r2', batchMs: 10 });
    await writer.start();
    for (const token of ['one', ' two', ' three']) writer.append('main', token);
    await sleep(300);
    for (const token of [' four', ' five']) writer.append('main', token);
    await writer.end();

    await client.waitFor((frame) => frame.runId === 'r2' && frame.name === 'agent_completed');
    expect(posts).toBeGreaterThanOrEqual(4);
    const frames = runFrames(client, 'r2');
    const ids = frames.map((frame) => frame.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(writer.text('main')).toBe('one two three four five');
    await expectRunExact({ stack, userId, client, runId: 'r2' }, writer.texts(), {
      main: writer.appendCount('main'),
    });
    await client.close();
  });
});
