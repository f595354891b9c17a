/** Frame shapes of the agentwire wire contract, version 1 (protocol.md). */

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// ---- client -> server ----

export interface HelloFrame {
  type: 'hello';
  token?: string;
  lastSeq?: number;
  epoch?: string;
}

export interface AckFrame {
  type: 'ack';
  seq: number;
}

export interface PublishFrame {
  type: 'publish';
  id: string;
  threadId?: string;
  data: JsonValue;
}

export type ClientFrame = HelloFrame | AckFrame | PublishFrame;

// ---- server -> client ----

export interface WelcomeFrame {
  type: 'welcome';
  connectionId: string;
  node: string;
  userId: string;
  epoch: string;
  latestSeq: number;
  oldestSeq: number;
  resumed: boolean;
  heartbeatMs: number;
  maxPayload: number;
}

export interface EventFrame {
  type: 'event';
  id: string;
  /** Present on critical events only. */
  seq?: number;
  critical: boolean;
  name: string;
  runId?: string;
  threadId?: string;
  ts: number;
  data?: JsonValue;
}

export interface HeartbeatFrame {
  type: 'heartbeat';
  ts: number;
}

export interface AcceptedFrame {
  type: 'accepted';
  id: string;
}

export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  id?: string;
}

export interface ReconnectFrame {
  type: 'reconnect';
  afterMs: number;
}

export type ServerFrame =
  WelcomeFrame | EventFrame | HeartbeatFrame | AcceptedFrame | ErrorFrame | ReconnectFrame;

// ---- HTTP ingest ----

/** An event as a producer posts it to POST /v1/events. */
export interface IngestEvent {
  id: string;
  userId: string;
  name: string;
  critical?: boolean;
  runId?: string;
  threadId?: string;
  data?: JsonValue;
}

export interface PresenceResponse {
  userId: string;
  connections: number;
  nodes: string[];
}
