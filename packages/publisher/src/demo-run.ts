import type { IngestEvent } from '@agentwire/protocol';

const answers = [
  'Agentwire delivers every critical event exactly once, in order, even across reconnects.',
  'Edges are stateless: kill one and your browser resumes on another without missing a step.',
  'Token deltas stream live; tool calls and completions are sequenced and replayable.',
];

/**
 * The events of one fake agent run, in the order an agent would emit them:
 * critical lifecycle events around a stream of non-critical token deltas.
 */
export function demoRunEvents(userId: string, runId: string, prompt: string): IngestEvent[] {
  const answer = answers[Math.floor(Math.random() * answers.length)] as string;
  const base = { userId, runId, threadId: 'demo' };
  const events: IngestEvent[] = [
    { ...base, id: `${runId}-start`, name: 'agent_started', data: { prompt } },
    {
      ...base,
      id: `${runId}-think`,
      name: 'agent_thinking',
      data: { thought: 'Planning a search' },
    },
    {
      ...base,
      id: `${runId}-tool`,
      name: 'tool_executing',
      data: { tool: 'search', query: prompt },
    },
    {
      ...base,
      id: `${runId}-tool-done`,
      name: 'tool_completed',
      data: { tool: 'search', results: 3 },
    },
  ];
  answer.split(/(?<= )/).forEach((text, i) => {
    events.push({
      ...base,
      id: `${runId}-tok-${i}`,
      name: 'token',
      critical: false,
      data: { text },
    });
  });
  events.push({ ...base, id: `${runId}-done`, name: 'agent_completed', data: { answer } });
  return events;
}
