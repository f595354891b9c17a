import { setTimeout as sleep } from 'node:timers/promises';
import { demoRunScript, demoTokens } from './demo-texts.js';
import type { RunWriter } from './run-writer.js';

export interface DemoRunOptions {
  /** Pace of the token streams (each delay is jittered by ±50 %). */
  tokensPerSecond: number;
  /** Pause around the lifecycle events. @default 300 */
  stepMs?: number;
  /** Ends the run where it is (no `agent_completed`; the service will call it stalled). */
  signal?: AbortSignal;
  random?: () => number;
}

/**
 * Plays one fake agent run on `writer`, as an agent would emit it:
 * agent_started, agent_thinking, a short `thinking` stream, tool_executing
 * and tool_completed, the `answer` stream token by token, agent_completed
 * (with the answer's length). Resolves with the text of each stream, as the
 * service keeps it; stops early, without ending the run, when `signal` aborts.
 */
export async function playDemoRun(
  writer: RunWriter,
  prompt: string,
  options: DemoRunOptions,
): Promise<Record<string, string>> {
  const { signal, stepMs = 300, random = Math.random } = options;
  const tokenMs = 1000 / options.tokensPerSecond;
  const script = demoRunScript(random);
  /** False once stopping: the wait is cut short and the run left as it is. */
  const pause = (ms: number): Promise<boolean> =>
    sleep(ms, undefined, { signal }).then(
      () => true,
      () => false,
    );
  const stream = async (name: string, text: string): Promise<boolean> => {
    for (const token of demoTokens(text, random)) {
      writer.append(name, token);
      if (!(await pause(tokenMs * (0.5 + random())))) return false;
    }
    return true;
  };

  await writer.start({ prompt });
  if (!(await pause(stepMs))) return writer.texts();
  await writer.event('agent_thinking', { thought: 'Planning a search' });
  if (!(await stream('thinking', script.thinking))) return writer.texts();
  await writer.event('tool_executing', { tool: 'search', query: prompt });
  if (!(await pause(stepMs))) return writer.texts();
  await writer.event('tool_completed', { tool: 'search', results: 3 });
  if (!(await stream('answer', script.answer))) return writer.texts();
  await writer.end({ answerLength: writer.text('answer').length });
  return writer.texts();
}
