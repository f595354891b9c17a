import { type KeyLayout, type RedisClient } from '@agentwire/redis';
import { appendTextOf, FLEET_STREAM } from './fleet-events.js';
import { runTag } from './ingest-event-factory.js';

/** One run to fill: a user's run id. */
export interface RunToFill {
  userId: string;
  runId: string;
}

export interface FillOptions {
  /** Edge HTTP base, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  ingestToken: string;
  runs: readonly RunToFill[];
  /** Bytes of UTF-8 text per run: appends of 5-20 bytes until the text reaches this size. */
  bytesPerRun: number;
  /** Events per POST. @default 200 */
  batch?: number;
  /** POSTs in flight (each run's appends stay on one of them, in order). @default 4 */
  inFlight?: number;
}

export interface FilledRun extends RunToFill {
  appends: number;
  /** The text the run must hold once every append is persisted. */
  text: string;
}

const MAX_ATTEMPTS = 5;
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Fills runs with appends through the real path (POST /v1/events, the
 * edge's validation and ingest streams, the buffer's persist script), with
 * the texts of fleet-events.ts. A run's appends go out in order on one
 * worker, so its chunks follow the order of its texts; a failed POST is
 * retried with the same ids (the sequencer dedupes them).
 */
export async function fillRuns(options: FillOptions): Promise<FilledRun[]> {
  const tag = runTag();
  let n = 0;
  const textsOf = options.runs.map(() => {
    const texts: string[] = [];
    let bytes = 0;
    while (bytes < options.bytesPerRun) {
      const text = appendTextOf(n++);
      texts.push(text);
      bytes += Buffer.byteLength(text);
    }
    return texts;
  });
  const workers = Math.max(1, Math.min(options.inFlight ?? 4, options.runs.length));
  const batchSize = options.batch ?? 200;
  let id = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const events: Array<Record<string, unknown>> = [];
      for (let r = w; r < options.runs.length; r += workers) {
        const run = options.runs[r] as RunToFill;
        for (const text of textsOf[r] as string[]) {
          events.push({
            id: `fill-${tag}-${(id++).toString(36)}`,
            userId: run.userId,
            name: 'token',
            runId: run.runId,
            stream: FLEET_STREAM,
            append: text,
          });
        }
      }
      for (let from = 0; from < events.length; from += batchSize) {
        await postBatch(options, events.slice(from, from + batchSize));
      }
    }),
  );
  return options.runs.map((run, r) => {
    const texts = textsOf[r] as string[];
    return { ...run, appends: texts.length, text: texts.join('') };
  });
}

async function postBatch(options: FillOptions, batch: unknown[]): Promise<void> {
  const body = JSON.stringify(batch);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const res = await fetch(new URL('/v1/events', options.baseUrl), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.ingestToken}`,
          'content-type': 'application/json',
        },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (res.status === 202) return;
      if (res.status < 500 && res.status !== 429) throw new Error(`ingest answered ${res.status}`);
    } catch (err) {
      if (attempt === MAX_ATTEMPTS) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
  throw new Error('ingest kept failing');
}

/**
 * Waits until every run holds all its appends (its hash's chunk count), at
 * most `timeoutMs`; returns the runs still short.
 */
export async function waitPersisted(
  client: RedisClient,
  keys: KeyLayout,
  runs: readonly FilledRun[],
  timeoutMs: number,
): Promise<FilledRun[]> {
  const deadline = Date.now() + timeoutMs;
  let short = [...runs];
  while (short.length > 0 && Date.now() < deadline) {
    const pipeline = client.pipeline();
    for (const run of short) pipeline.hget(keys.run(run.userId, run.runId), `c:${FLEET_STREAM}`);
    const replies = (await pipeline.exec()) ?? [];
    short = short.filter((run, i) => Number(replies[i]?.[1] ?? 0) < run.appends);
    if (short.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return short;
}
