import { FLEET_STREAM } from './fleet-events.js';

/** What the check needs of a fleet client: its user, token and the text it put together. */
export interface RunTextHolder {
  userId: string;
  token: string;
  textOf(runId: string, stream: string): { text: string; chunks: number };
}

export interface RunTextCheck {
  checked: number;
  /** Clients whose text or chunks differ from the server's snapshot. */
  mismatches: number;
  /** Clients whose snapshot request failed (not 200). */
  unchecked: number;
  /** A few mismatches, for the report. */
  examples: string[];
}

const CONCURRENCY = 16;
const TIMEOUT_MS = 10_000;

/**
 * Compares, for every client, the text it put together from appends and
 * snapshots with the server's snapshot of its run (GET /v1/runs/{runId}, the
 * same read-run script and frame as a `sync`): the text stored and the text
 * delivered live must be the same bytes, with the same chunk count.
 */
export async function checkRunTexts(
  baseUrl: string,
  runId: string,
  holders: readonly RunTextHolder[],
): Promise<RunTextCheck> {
  const result: RunTextCheck = { checked: 0, mismatches: 0, unchecked: 0, examples: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < holders.length) {
      const holder = holders[next++] as RunTextHolder;
      const mine = holder.textOf(runId, FLEET_STREAM);
      let server: { text?: unknown; chunks?: unknown } | undefined;
      try {
        const res = await fetch(new URL(`/v1/runs/${encodeURIComponent(runId)}`, baseUrl), {
          headers: { authorization: `Bearer ${holder.token}` },
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        if (res.status === 200) {
          const frame = (await res.json()) as { streams?: Record<string, typeof server> };
          server = frame.streams?.[FLEET_STREAM] ?? { text: '', chunks: 0 };
        } else {
          await res.arrayBuffer();
        }
      } catch {
        server = undefined;
      }
      if (server === undefined) {
        result.unchecked++;
        continue;
      }
      result.checked++;
      if (server.text !== mine.text || server.chunks !== mine.chunks) {
        result.mismatches++;
        if (result.examples.length < 3) {
          result.examples.push(
            `${holder.userId}: client ${mine.chunks} chunks / ${mine.text.length} chars, server ${String(server.chunks)} / ${typeof server.text === 'string' ? server.text.length : '?'}`,
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return result;
}
