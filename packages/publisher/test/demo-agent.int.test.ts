import {
  startService,
  startStack,
  uniquePrefix,
  waitUntil,
  type ServiceProcess,
  type Stack,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, expectRunExact, runFrames } from './support/run-frames.js';

let stack: Stack;
let agent: ServiceProcess | undefined;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await stack?.stop();
});

interface RunStreamedLine {
  msg: string;
  runId: string;
  texts: Record<string, string>;
}

/** The demo agent's `run streamed` log lines: each run's texts as it wrote them. */
function streamedRuns(output: string): RunStreamedLine[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"msg":"run streamed"'))
    .map((line) => JSON.parse(line) as RunStreamedLine);
}

describe('the demo agent', () => {
  it('streams runs token by token: what a client gets is exactly the text it wrote', async () => {
    const userId = uniquePrefix('demo');
    const client = await connectAs(stack, userId);
    const edge = stack.edges[0];
    if (!edge) throw new Error('the stack has no edge');
    agent = await startService(
      'demo-agent',
      {
        ...stack.env,
        EDGE_URL: edge.url,
        DEMO_USER: userId,
        DEMO_INTERVAL_MS: '100',
        DEMO_TOKENS_PER_SECOND: '200',
        LOG_LEVEL: 'info',
      },
      { waitReady: false },
    );
    await waitUntil(
      () => streamedRuns(agent?.output() ?? '').length > 0,
      20_000,
      50,
      'a demo run streamed',
    );
    const [run] = streamedRuns(agent.output());
    if (!run) throw new Error('no run');
    const completed = await client.waitFor(
      (frame) => frame.runId === run.runId && frame.name === 'agent_completed',
    );
    const frames = runFrames(client, run.runId);
    expect(frames.filter((frame) => frame.critical).map((frame) => frame.name)).toEqual([
      'agent_started',
      'agent_thinking',
      'tool_executing',
      'tool_completed',
      'agent_completed',
    ]);
    expect(Object.keys(run.texts).sort()).toEqual(['answer', 'thinking']);
    expect(run.texts.answer?.length).toBeGreaterThan(50);
    expect(completed.data).toEqual({ answerLength: run.texts.answer?.length });
    await expectRunExact({ stack, userId, client, runId: run.runId }, run.texts);
    await client.close();
  });

  it('refuses to start on a DEMO_INTERVAL_MS that is not a number, naming it', async () => {
    const proc = await startService(
      'demo-agent',
      { INGEST_TOKEN: 't', DEMO_INTERVAL_MS: 'soon' },
      { waitReady: false },
    );
    const exit = await proc.exitWithin(10_000);
    expect(exit.code).toBe(1);
    expect(proc.output()).toContain('DEMO_INTERVAL_MS: expected an integer >= 1, got "soon"');
  });
});
