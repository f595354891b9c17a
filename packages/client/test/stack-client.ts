import WebSocket from 'ws';
import type { EventFrame, IngestEvent, WelcomeFrame } from '@agentwire/protocol';
import { waitUntil, type Stack } from '@agentwire/testing';
import { AgentwireClient, type ClientOptions, type DisconnectInfo } from '../src/index.js';

/** What one Node client saw, for integration assertions. */
export interface Observed {
  client: AgentwireClient;
  critical: EventFrame[];
  all: EventFrame[];
  welcomes: WelcomeFrame[];
  states: string[];
  errors: Error[];
  disconnects: DisconnectInfo[];
  /** Critical seqs delivered to the application, in order. */
  seqs(): number[];
  /** Waits until `count` critical events were delivered (fails after `timeoutMs`). */
  waitForCritical(count: number, timeoutMs?: number): Promise<void>;
  waitForState(state: string, timeoutMs?: number): Promise<void>;
}

let userCounter = 0;

/** A user id no other test uses. */
export function freshUserId(label: string): string {
  userCounter++;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${userCounter}`;
}

/** An AgentwireClient on the Node `ws` implementation, with everything it emits recorded. */
export function observedClient(
  options: Omit<ClientOptions, 'WebSocket'> & Partial<Pick<ClientOptions, 'WebSocket'>>,
): Observed {
  const client = new AgentwireClient({ WebSocket, ackIntervalMs: 200, ...options });
  const observed: Observed = {
    client,
    critical: [],
    all: [],
    welcomes: [],
    states: [],
    errors: [],
    disconnects: [],
    seqs: () => observed.critical.map((e) => e.seq as number),
    waitForCritical: (count, timeoutMs = 15_000) =>
      waitUntil(
        () => observed.critical.length >= count,
        timeoutMs,
        20,
        `${count} critical events (have ${observed.critical.length})`,
      ),
    waitForState: (state, timeoutMs = 15_000) =>
      waitUntil(() => client.state === state, timeoutMs, 20, `client state ${state}`),
  };
  client.on('event', (event) => {
    observed.all.push(event);
    if (event.critical) observed.critical.push(event);
  });
  client.on('welcome', (w) => {
    observed.welcomes.push(w);
  });
  client.on('state', ({ newState }) => {
    observed.states.push(newState);
  });
  client.on('error', (e) => {
    observed.errors.push(e);
  });
  client.on('disconnect', (d) => {
    observed.disconnects.push(d);
  });
  return observed;
}

let eventCounter = 0;

/** Critical events of one run, named like an agent's lifecycle, with unique ids. */
export function runEvents(userId: string, runId: string, count: number): IngestEvent[] {
  const names = ['agent_started', 'agent_thinking', 'tool_executing', 'tool_completed'];
  return Array.from({ length: count }, (_, i) => ({
    id: `evt-${userId}-${++eventCounter}`,
    userId,
    runId,
    threadId: 't1',
    name: i === count - 1 ? 'agent_completed' : (names[i % names.length] as string),
    data: { step: i },
  }));
}

/** A non-critical token delta. */
export function tokenDelta(userId: string, runId: string, text: string): IngestEvent {
  return { id: `tok-${userId}-${++eventCounter}`, userId, runId, name: 'token', data: { text } };
}

/** One agent run as the demo agent streams it: lifecycle events around appends to two streams. */
export interface AgentRunScript {
  runId: string;
  started: IngestEvent;
  /** Appends to `thinking`, one token each. */
  thinking: IngestEvent[];
  /** Appends to `answer`, one token each. */
  answer: IngestEvent[];
  completed: IngestEvent;
}

/** The run's events; each stream's text split into word tokens (spaces kept). */
export function agentRunScript(
  userId: string,
  runId: string,
  texts: { thinking: string; answer: string },
): AgentRunScript {
  const appends = (stream: string, text: string): IngestEvent[] =>
    text.split(/(?<= )/).map((append) => ({
      id: `tok-${userId}-${++eventCounter}`,
      userId,
      runId,
      name: 'token',
      stream,
      append,
    }));
  const lifecycle = (name: string): IngestEvent => ({
    id: `evt-${userId}-${++eventCounter}`,
    userId,
    runId,
    name,
    data: {},
  });
  return {
    runId,
    started: lifecycle('agent_started'),
    thinking: appends('thinking', texts.thinking),
    answer: appends('answer', texts.answer),
    completed: lifecycle('agent_completed'),
  };
}

/** POST /v1/events and insist on 202. */
export async function ingestOk(stack: Stack, events: IngestEvent[], edge = 0): Promise<void> {
  const result = await stack.ingest(events, { edge });
  if (result.status !== 202) {
    throw new Error(`ingest answered ${result.status}: ${JSON.stringify(result.body)}`);
  }
}

/** Index in stack.edges of the edge a welcome came from (NODE_ID is edge-<index>). */
export function edgeIndexOf(stack: Stack, node: string): number {
  const index = Number(node.replace(/^edge-/, ''));
  if (!Number.isInteger(index) || stack.edges[index] === undefined) {
    throw new Error(`unknown edge node ${node}`);
  }
  return index;
}

/** 1..n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
