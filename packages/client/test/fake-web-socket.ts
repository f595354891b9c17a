import type { ClientFrame, ServerFrame, WelcomeFrame } from '@agentwire/protocol';
import type { WebSocketConstructor, WebSocketLike } from '../src/index.js';

/**
 * An in-memory WebSocket for pure-logic tests: the test plays the server by
 * calling `open`, `receive` and `serverClose`, and reads what the client sent.
 */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: string[] = [];
  closedByClient: { code: number | undefined; reason: string | undefined } | undefined;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    (this.onopen as ((event: object) => void) | null)?.({});
  }

  receive(frame: ServerFrame | Record<string, unknown>): void {
    (this.onmessage as ((event: { data: unknown }) => void) | null)?.({
      data: JSON.stringify(frame),
    });
  }

  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    (this.onclose as ((event: { code: number; reason: string }) => void) | null)?.({
      code,
      reason,
    });
  }

  frames(): ClientFrame[] {
    return this.sent.map((text) => JSON.parse(text) as ClientFrame);
  }

  framesOf<T extends ClientFrame['type']>(type: T): Extract<ClientFrame, { type: T }>[] {
    return this.frames().filter((f): f is Extract<ClientFrame, { type: T }> => f.type === type);
  }
}

/** A WebSocket constructor that records every socket the client opens. */
export function fakeWebSocketFactory(): {
  WebSocket: WebSocketConstructor;
  sockets: FakeSocket[];
  last(): FakeSocket;
} {
  const sockets: FakeSocket[] = [];
  class Recorded extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return {
    WebSocket: Recorded,
    sockets,
    last: () => {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('no socket was opened');
      return socket;
    },
  };
}

export function welcomeFrame(overrides: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    connectionId: 'c-1',
    node: 'edge-a',
    userId: 'u1',
    epoch: 'e1',
    latestSeq: 0,
    oldestSeq: 0,
    resumed: true,
    heartbeatMs: 25_000,
    maxPayload: 65_536,
    ...overrides,
  };
}

export function criticalEvent(seq: number, name = 'agent_thinking', runId = 'r1'): ServerFrame {
  return {
    type: 'event',
    id: `evt-${seq}`,
    seq,
    critical: true,
    name,
    runId,
    ts: 1_764_150_000_000 + seq,
  };
}

export function tokenEvent(text: string, runId = 'r1'): ServerFrame {
  return {
    type: 'event',
    id: `tok-${text}`,
    critical: false,
    name: 'token',
    runId,
    ts: 1_764_150_000_000,
    data: { text },
  };
}
