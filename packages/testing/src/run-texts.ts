import type { WsFrame } from './test-ws-client.js';

/** One stream as a client following the chunk rule holds it. */
export interface StreamText {
  text: string;
  chunks: number;
}

/**
 * A client's texts of every run, built from the frames it received by the
 * rule of protocol.md section 9: a snapshot replaces the run's streams;
 * an append with chunk <= known is ignored, chunk == known + 1 is appended,
 * a higher chunk is a gap. A gap is recorded (so a test can fail on it) and
 * the run waits for a snapshot, its appends unapplied meanwhile: applyFrame
 * names the run once, so the caller can ask for one (`sync`), as a real
 * client does. Tests compare the result with what the producer sent.
 */
export class RunTexts {
  readonly runs = new Map<string, Map<string, StreamText>>();
  readonly gaps: string[] = [];
  /** Runs with a gap, waiting for a snapshot. */
  private readonly awaitingSnapshot = new Set<string>();

  apply(frames: readonly WsFrame[]): this {
    for (const frame of frames) this.applyFrame(frame);
    return this;
  }

  /** Applies one frame; returns the run id to sync when this frame opened a gap in that run. */
  applyFrame(frame: WsFrame): string | undefined {
    if (frame.type === 'snapshot') {
      const streams = new Map<string, StreamText>();
      const given = (frame.streams ?? {}) as Record<string, StreamText>;
      for (const [name, stream] of Object.entries(given)) {
        streams.set(name, { text: stream.text, chunks: stream.chunks });
      }
      const runId = String(frame.runId);
      this.runs.set(runId, streams);
      this.awaitingSnapshot.delete(runId);
      return undefined;
    }
    if (frame.type !== 'event' || typeof frame.chunk !== 'number') return undefined;
    const runId = String(frame.runId);
    if (this.awaitingSnapshot.has(runId)) return undefined;
    const name = String(frame.stream);
    let streams = this.runs.get(runId);
    if (streams === undefined) {
      streams = new Map();
      this.runs.set(runId, streams);
    }
    const stream = streams.get(name) ?? { text: '', chunks: 0 };
    if (frame.chunk <= stream.chunks) return undefined;
    if (frame.chunk !== stream.chunks + 1) {
      this.gaps.push(`${runId}/${name}: chunk ${frame.chunk} after ${stream.chunks}`);
      this.awaitingSnapshot.add(runId);
      return runId;
    }
    streams.set(name, { text: stream.text + String(frame.append), chunks: frame.chunk });
    return undefined;
  }

  text(runId: string, stream: string): string | undefined {
    return this.runs.get(runId)?.get(stream)?.text;
  }
}
