import { ingestUntilAccepted, sleep, type Stack } from '@agentwire/testing';

/** One text stream of a run. */
export interface RunStreamRef {
  userId: string;
  runId: string;
  stream: string;
}

export interface ProduceOptions {
  /** Appends per stream, in all (a second run() call continues up to its own count). */
  appendsPerStream: number;
  /** Appends per POST, at most (each batch holds 1 to this many, at random). */
  maxBatch: number;
  /** Pause after each accepted batch. */
  pauseMs: number;
  /** A critical event of the run after every this many of its appends (0: none but the start). */
  criticalEvery?: number;
  /** Builds the text of one append. @default mixedText */
  text?: (n: number) => string;
  /** More events each batch carries after its appends (e.g. large non-critical fillers). */
  extra?: () => Record<string, unknown>[];
  /** Ends every run (agent_completed) after its last append. @default false */
  end?: boolean;
  /** Called after each accepted batch with the share (0-1) of appends accepted. */
  onProgress?: (share: number) => void;
}

/**
 * Pieces of text that a byte-exact path must keep: multi-byte scripts,
 * emoji (surrogate pairs, modifiers, ZWJ sequences, flags), and characters
 * that JSON escapes.
 */
const PIECES = [
  'Hel',
  'lo',
  ' ',
  'wörld',
  'naïve ',
  'こんにちは',
  '中文',
  '👍',
  '👍🏽',
  '👨‍👩‍👧',
  '🇫🇷',
  '𝄞',
  '"quoted"',
  '\\',
  '\n',
  '\t',
  '\u2028',
  'é',
  'ß',
  '{"json":1}',
];

const randomBelow = (n: number): number => Math.floor(Math.random() * n);

/** One to three random pieces (never empty: an append needs text without `data`). */
export function mixedText(): string {
  const count = 1 + randomBelow(3);
  let text = '';
  for (let i = 0; i < count; i++) text += PIECES[randomBelow(PIECES.length)];
  return text;
}

/** Every stream of `runsPerUser` runs (`run-1`...) of each user. */
export function runStreamsOf(
  users: readonly string[],
  runsPerUser: number,
  streams: readonly string[],
): RunStreamRef[] {
  return users.flatMap((userId) =>
    Array.from({ length: runsPerUser }, (_, r) =>
      streams.map((stream) => ({ userId, runId: `run-${r + 1}`, stream })),
    ).flat(),
  );
}

const keyOf = (ref: RunStreamRef): string => `${ref.userId}/${ref.runId}/${ref.stream}`;

/**
 * Streams text into runs as an agent does: each run starts with a critical
 * agent_started, then small batches of appends to random streams, in order
 * per stream, with a critical event of the run now and then. Every batch is
 * sent until accepted (through killed edges: same ids again). Keeps what
 * every stream's text must be and how many appends (chunks) it got.
 */
export class RunProducer {
  private readonly texts = new Map<string, string>();
  private readonly counts = new Map<string, number>();
  /** Appends per run (`userId/runId`), for the critical event every criticalEvery of them. */
  private readonly runAppends = new Map<string, number>();
  private edge = 0;
  /** After a failed attempt the producer keeps to the edge that answered, as behind a load balancer that took the dead one out. */
  private sticky = false;
  retries = 0;

  private readonly edgeUrls: string[];
  private readonly ingestToken: string;

  /** Posts to the stack's edges `edges` (all by default), in turn. */
  constructor(
    stack: Stack,
    readonly streams: readonly RunStreamRef[],
    edges: readonly number[] = stack.edges.map((_, i) => i),
  ) {
    this.edgeUrls = edges.map((i) => stack.edges[i]?.url as string);
    this.ingestToken = stack.env.INGEST_TOKEN as string;
  }

  /** The text sent to a stream so far. */
  text(ref: RunStreamRef): string {
    return this.texts.get(keyOf(ref)) ?? '';
  }

  /** Appends accepted for a stream so far: its chunks are 1..this. */
  appends(ref: RunStreamRef): number {
    return this.counts.get(keyOf(ref)) ?? 0;
  }

  async run(options: ProduceOptions): Promise<void> {
    await this.postPerRun('start', 'agent_started');
    // appendsPerStream counts from the first run() call: a later one continues the streams.
    const total = this.streams.reduce(
      (sum, ref) => sum + Math.max(0, options.appendsPerStream - this.appends(ref)),
      0,
    );
    let sent = 0;
    while (sent < total) {
      // 1 to maxBatch distinct streams that still want text, one append each.
      const open = this.streams.filter((ref) => this.appends(ref) < options.appendsPerStream);
      const picked = open
        .sort(() => Math.random() - 0.5)
        .slice(0, 1 + randomBelow(options.maxBatch));
      const batch: Record<string, unknown>[] = [];
      const added: Array<[RunStreamRef, string]> = [];
      for (const ref of picked) {
        const n = this.appends(ref) + 1;
        const text = (options.text ?? mixedText)(n);
        batch.push({
          id: `${ref.runId}:${ref.stream}:${n}`,
          userId: ref.userId,
          name: 'token',
          runId: ref.runId,
          stream: ref.stream,
          append: text,
        });
        added.push([ref, text]);
        const runKey = `${ref.userId}/${ref.runId}`;
        const ofRun = (this.runAppends.get(runKey) ?? 0) + 1;
        this.runAppends.set(runKey, ofRun);
        if (options.criticalEvery && ofRun % options.criticalEvery === 0) {
          batch.push({
            id: `${ref.runId}:tool:${ofRun}`,
            userId: ref.userId,
            name: 'tool_executing',
            runId: ref.runId,
            data: { after: ofRun },
          });
        }
      }
      if (options.extra) batch.push(...options.extra());
      await this.post(batch);
      for (const [ref, text] of added) {
        const key = keyOf(ref);
        this.texts.set(key, (this.texts.get(key) ?? '') + text);
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      }
      sent += added.length;
      options.onProgress?.(sent / total);
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
    if (options.end) await this.postPerRun('end', 'agent_completed');
  }

  /** One critical event `name` for each run. */
  private async postPerRun(label: string, name: string): Promise<void> {
    const runs = new Map(this.streams.map((ref) => [`${ref.userId}/${ref.runId}`, ref]));
    await this.post(
      [...runs.values()].map((ref) => ({
        id: `${ref.runId}:${label}`,
        userId: ref.userId,
        name,
        runId: ref.runId,
      })),
    );
  }

  private async post(events: Record<string, unknown>[]): Promise<void> {
    const result = await ingestUntilAccepted(this.edgeUrls, this.ingestToken, events, {
      first: this.edge,
    });
    if (result.retries > 0) this.sticky = true;
    this.edge = this.sticky ? result.accepted : result.next;
    this.retries += result.retries;
  }
}
