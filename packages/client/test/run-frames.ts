import type { EventFrame, RunStatus, SnapshotFrame } from '@agentwire/protocol';

const TS = 1_764_150_000_000;

/** An append frame as the server delivers it (protocol.md section 9). */
export function appendFrame(
  chunk: number,
  append: string,
  options: { runId?: string; stream?: string; ts?: number } = {},
): EventFrame {
  const frame: EventFrame = {
    type: 'event',
    id: `tok-${options.runId ?? 'r1'}-${options.stream ?? 'main'}-${chunk}`,
    critical: false,
    name: 'token',
    runId: options.runId ?? 'r1',
    chunk,
    append,
    ts: options.ts ?? TS + chunk,
  };
  if (options.stream !== undefined) frame.stream = options.stream;
  return frame;
}

/** A run event other than an append; critical when it has a seq. */
export function runEvent(
  name: string,
  options: { runId?: string; seq?: number; ts?: number } = {},
): EventFrame {
  const frame: EventFrame = {
    type: 'event',
    id: `evt-${name}-${options.seq ?? 'live'}`,
    critical: options.seq !== undefined,
    name,
    runId: options.runId ?? 'r1',
    ts: options.ts ?? TS,
  };
  if (options.seq !== undefined) frame.seq = options.seq;
  return frame;
}

export function snapshotFrame(
  status: RunStatus,
  streams: Record<string, { text: string; chunks: number; truncated?: boolean }> = {},
  runId = 'r1',
): SnapshotFrame {
  const frame: SnapshotFrame = {
    type: 'snapshot',
    runId,
    status,
    streams: Object.fromEntries(
      Object.entries(streams).map(([name, s]) => [
        name,
        { text: s.text, chunks: s.chunks, truncated: s.truncated ?? false },
      ]),
    ),
  };
  if (status !== 'unknown') {
    frame.startedTs = TS - 1000;
    frame.updatedTs = TS - 10;
  }
  return frame;
}
