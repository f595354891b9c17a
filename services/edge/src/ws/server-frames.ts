import type {
  AcceptedFrame,
  HeartbeatFrame,
  ReconnectFrame,
  SnapshotFrame,
  WelcomeFrame,
} from '@agentwire/protocol';
import type { RunRecord } from '@agentwire/redis';

/** Serialisers of the server's control frames (event frames come serialised from Redis). */

export function welcomeFrame(welcome: Omit<WelcomeFrame, 'type'>): string {
  const frame: WelcomeFrame = { type: 'welcome', ...welcome };
  return JSON.stringify(frame);
}

export function heartbeatFrame(now: number): string {
  const frame: HeartbeatFrame = { type: 'heartbeat', ts: now };
  return JSON.stringify(frame);
}

export function reconnectFrame(afterMs: number): string {
  const frame: ReconnectFrame = { type: 'reconnect', afterMs };
  return JSON.stringify(frame);
}

export function acceptedFrame(id: string): string {
  const frame: AcceptedFrame = { type: 'accepted', id };
  return JSON.stringify(frame);
}

export function errorFrame(code: string, message: string, id?: string): string {
  return JSON.stringify(
    id === undefined ? { type: 'error', code, message } : { type: 'error', code, message, id },
  );
}

/**
 * A run's `snapshot` frame (protocol.md section 9); `unknown` with no
 * streams when the run is not retained.
 */
export function snapshotFrame(runId: string, run: RunRecord | undefined): string {
  if (run === undefined) {
    const unknown: SnapshotFrame = { type: 'snapshot', runId, status: 'unknown', streams: {} };
    return JSON.stringify(unknown);
  }
  const streams: SnapshotFrame['streams'] = {};
  for (const stream of run.streams) {
    streams[stream.name] = {
      text: stream.text,
      chunks: stream.chunks,
      truncated: stream.truncated,
    };
  }
  const frame: SnapshotFrame = {
    type: 'snapshot',
    runId,
    status: run.status,
    startedTs: run.startedTs,
    updatedTs: run.updatedTs,
    streams,
  };
  return JSON.stringify(frame);
}

/** The chunks per stream a snapshot of `run` gives the client. */
export function snapshotChunks(run: RunRecord | undefined): Map<string, number> | undefined {
  if (run === undefined) return undefined;
  return new Map(run.streams.map((stream) => [stream.name, stream.chunks]));
}
