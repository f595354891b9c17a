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

/** Asks for one `snapshot` of a run (protocol.md section 9). */
export interface SyncFrame {
  type: 'sync';
  runId: string;
}

export type ClientFrame = HelloFrame | AckFrame | PublishFrame | SyncFrame;

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
  /** Appends only (section 9): the run's text stream, default `main`. */
  stream?: string;
  /** Appends only: per (user, run, stream), from 1, contiguous. */
  chunk?: number;
  /** Appends only: the text added to the stream. */
  append?: string;
  /** On the event that ends a run: its final chunk count per stream. */
  runChunks?: Record<string, number>;
}

/** A run's state: `unknown` when no such run is retained (then `streams` is empty). */
export type RunStatus = 'running' | 'ended' | 'stalled' | 'unknown';

export interface RunStreamSnapshot {
  text: string;
  /** Every append with `chunk <= chunks` is in `text`. */
  chunks: number;
  /** True when the text passed RUN_MAX_BYTES and only its start is kept. */
  truncated: boolean;
}

export interface SnapshotFrame {
  type: 'snapshot';
  runId: string;
  status: RunStatus;
  startedTs?: number;
  updatedTs?: number;
  streams: Record<string, RunStreamSnapshot>;
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
  | WelcomeFrame
  | EventFrame
  | SnapshotFrame
  | HeartbeatFrame
  | AcceptedFrame
  | ErrorFrame
  | ReconnectFrame;

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
  /** With `append`: the run's text stream (1-64 of [A-Za-z0-9._:-]), default `main`. */
  stream?: string;
  /** Makes the event an append to a text stream of `runId` (never critical). */
  append?: string;
}

export interface PresenceResponse {
  userId: string;
  connections: number;
  nodes: string[];
}
