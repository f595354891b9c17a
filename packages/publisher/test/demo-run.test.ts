import { describe, expect, it } from 'vitest';
import { playDemoRun } from '../src/demo-run.js';
import { demoRunScript, demoTokens } from '../src/demo-texts.js';
import { RunWriter } from '../src/run-writer.js';
import { RecordingTransport } from './recording-transport.js';

/** A seeded generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('demo texts', () => {
  it('cuts text into tokens that join back to it, never inside a character', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seeded(seed);
      const { thinking, answer } = demoRunScript(random);
      for (const text of [thinking, answer]) {
        const tokens = demoTokens(text, random);
        expect(tokens.join('')).toBe(text);
        for (const token of tokens) {
          // Survives UTF-8 unchanged: no lone surrogate.
          expect(Buffer.from(token).toString()).toBe(token);
          expect(Array.from(token.trim()).length).toBeLessThanOrEqual(6);
        }
      }
    }
  });

  it('varies the answers: a few sentences each, not always the same', () => {
    const random = seeded(7);
    const answers = new Set(Array.from({ length: 20 }, () => demoRunScript(random).answer));
    expect(answers.size).toBeGreaterThan(10);
    for (const answer of answers) {
      const sentences = answer.split(/(?<=[.!?])\s/).length;
      expect(sentences).toBeGreaterThanOrEqual(2);
      expect(sentences).toBeLessThanOrEqual(5);
    }
  });
});

describe('playDemoRun', () => {
  it('streams thinking then the answer, between agent_started and agent_completed', async () => {
    const transport = new RecordingTransport();
    const writer = new RunWriter(transport, { userId: 'demo', runId: 'run-1', batchMs: 5 });
    const texts = await playDemoRun(writer, 'what is it?', {
      tokensPerSecond: 1000,
      stepMs: 0,
      random: seeded(3),
    });
    const kept = transport.kept;
    const lifecycle = kept.filter((event) => event.append === undefined).map((e) => e.name);
    expect(lifecycle).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing',
      'tool_completed',
      'agent_completed',
    ]);
    const streamsInOrder = kept.flatMap((e) => (e.stream === undefined ? [] : [e.stream]));
    expect(streamsInOrder.lastIndexOf('thinking')).toBeLessThan(streamsInOrder.indexOf('answer'));
    expect(Object.keys(texts).sort()).toEqual(['answer', 'thinking']);
    expect(transport.textOf('thinking')).toBe(texts.thinking);
    expect(transport.textOf('answer')).toBe(texts.answer);
    expect(kept.at(-1)?.data).toEqual({ answerLength: texts.answer?.length });
    expect(kept[0]?.data).toEqual({ prompt: 'what is it?' });
    // Tens of tokens per appended event at most: the writer merged them.
    expect(writer.appendCount('answer')).toBeLessThan(demoTokens(texts.answer ?? '').length);
  });

  it('stops where it is when its signal aborts, without ending the run', async () => {
    const transport = new RecordingTransport();
    const stop = new AbortController();
    const writer = new RunWriter(transport, { userId: 'demo', runId: 'run-2' });
    setTimeout(() => stop.abort(), 100);
    const startedAt = Date.now();
    await playDemoRun(writer, 'q', { tokensPerSecond: 20, stepMs: 0, signal: stop.signal });
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(transport.kept.map((e) => e.name)).not.toContain('agent_completed');
  });
});
