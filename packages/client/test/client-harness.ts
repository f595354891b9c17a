import { vi } from 'vitest';
import type { EventFrame, WelcomeFrame } from '@agentwire/protocol';
import {
  AgentwireClient,
  type ClientOptions,
  type DisconnectInfo,
  type StateChange,
} from '../src/index.js';
import { fakeWebSocketFactory, welcomeFrame, type FakeSocket } from './fake-web-socket.js';

export const URLS = ['ws://127.0.0.1:7001/v1/ws', 'ws://127.0.0.1:7002/v1/ws'];

/** Lets pending promises and zero-delay timers run (vitest fake timers must be on). */
export const flush = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);

/**
 * Like flush, for zero-delay timers created inside another timer's callback:
 * the fake clock schedules those 1 ms later.
 */
export const flushNested = (): Promise<unknown> => vi.advanceTimersByTimeAsync(1);

/**
 * A client wired to fake sockets, with everything it emits recorded. `random`
 * defaults to 0: the first URL first, and zero backoff delays, unless a test
 * sets its own.
 */
export function createHarness(options: Partial<ClientOptions> = {}) {
  const fake = fakeWebSocketFactory();
  let tokens = 0;
  const getToken = vi.fn(() => `token-${++tokens}`);
  const client = new AgentwireClient({
    url: URLS,
    getToken,
    WebSocket: fake.WebSocket,
    random: () => 0,
    ...options,
  });
  const events: EventFrame[] = [];
  const states: StateChange[] = [];
  const errors: Error[] = [];
  const disconnects: DisconnectInfo[] = [];
  client.on('event', (event) => {
    events.push(event);
  });
  client.on('state', (change) => {
    states.push(change);
  });
  client.on('error', (error) => {
    errors.push(error);
  });
  client.on('disconnect', (info) => {
    disconnects.push(info);
  });

  /** Opens the socket the client is trying and answers its hello with a welcome. */
  async function accept(overrides: Partial<WelcomeFrame> = {}): Promise<FakeSocket> {
    await flush();
    const socket = fake.last();
    socket.open();
    socket.receive(welcomeFrame(overrides));
    await flush();
    return socket;
  }

  /** connect() plus accept(). */
  async function connect(overrides: Partial<WelcomeFrame> = {}): Promise<FakeSocket> {
    client.connect();
    return accept(overrides);
  }

  return { client, fake, getToken, events, states, errors, disconnects, accept, connect };
}

/** Critical seqs the application received, in order. */
export function seqs(events: EventFrame[]): number[] {
  return events.filter((e) => e.critical).map((e) => e.seq as number);
}
