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
 * a higher chunk is a gap (recorded, so a test can fail on it, and then
 * taken as a jump: a real client would sync). Tests compare the result with
 * what the producer sent.
 */
export class RunTexts {
  readonly runs = new Map<string, Map<string, StreamText>>();
  readonly gaps: string[] = [];

  apply(frames: readonly WsFrame[]): this {
    for (const frame of frames) this.applyFrame(frame);
    return this;
  }

  applyFrame(frame: WsFrame): void {
    if (frame.type === 'snapshot') {
      const streams = new Map<string, StreamText>();
      const given = (frame.streams ?? {}) as Record<string, StreamText>;
      for (const [name, stream] of Object.entries(given)) {
        streams.set(name, { text: stream.text, chunks: stream.chunks });
      }
      this.runs.set(String(frame.runId), streams);
      return;
    }
    if (frame.type !== 'event' || typeof frame.chunk !== 'number') return;
    const runId = String(frame.runId);
    const name = String(frame.stream);
    let streams = this.runs.get(runId);
    if (streams === undefined) {
      streams = new Map();
      this.runs.set(runId, streams);
    }
    const stream = streams.get(name) ?? { text: '', chunks: 0 };
    if (frame.chunk <= stream.chunks) return;
    if (frame.chunk !== stream.chunks + 1) {
      this.gaps.push(`${runId}/${name}: chunk ${frame.chunk} after ${stream.chunks}`);
    }
    streams.set(name, { text: stream.text + String(frame.append), chunks: frame.chunk });
  }

  text(runId: string, stream: string): string | undefined {
    return this.runs.get(runId)?.get(stream)?.text;
  }
}
