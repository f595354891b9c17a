import type { RedisClient } from '@agentwire/redis';
import { numberArg, parseCli, runCli } from './src/cli-args.js';
import { infoField, machineInfo } from './src/machine-info.js';
import { writeJsonReport } from './src/report-writer.js';
import { fillRuns, waitPersisted } from './src/run-filler.js';
import { keyKindOf, type KeyKind } from './src/run-key-kind.js';
import { withRunProbeStack } from './src/run-probe-stack.js';

const USAGE = `Usage: npx tsx loadtest/run-memory.ts [options]

Redis memory per retained run (protocol.md section 9). Starts a private stack (1 edge,
1 buffer, Redis without persistence), fills --runs runs of --bytes bytes of text each with
appends of 5-20 bytes through POST /v1/events and the buffer's persist script (every setting
at its default: RUN_TTL_MS 1 h, DEDUPE_WINDOW_MS 24 h), waits until every append is persisted
and the ingest streams are trimmed, and compares Redis's used_memory before and after. Then
sums MEMORY USAGE over every key by kind (run hash, run text, the user's and the shard's run
indexes, dedupe keys, ...), so the per-run figure can be split into the run itself and what
its appends leave behind.
  --runs N      runs, 1..20000 (default 1000)
  --users N     users the runs are spread over, 1..runs (default runs/10: 10 runs each)
  --bytes N     text per run in bytes, 16..1048576 (default 4096)
  --json        print the result as JSON
  --out DIR     report root: writes DIR/<timestamp>/run-memory.json (default loadtest/reports)`;

const OVERALL_CAP_MS = 10 * 60 * 1000;
// The buffer trims the ingest streams every 5 s (SHARD_MAINTENANCE_MS): wait for two rounds.
const TRIM_WAIT_MS = 11_000;
const SCAN_COUNT = 1000;

runCli(USAGE, async () => {
  const values = parseCli({
    runs: { type: 'string' },
    users: { type: 'string' },
    bytes: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = numberArg(values, 'runs', 1000, { min: 1, max: 20_000 });
  const users = numberArg(values, 'users', Math.max(1, Math.ceil(runs / 10)), {
    min: 1,
    max: runs,
  });
  const bytes = numberArg(values, 'bytes', 4096, { min: 16, max: 1_048_576 });
  const log = (line: string): void => console.error(line);

  const createdAt = new Date();
  // The production prefix: key names are part of what every key costs.
  return withRunProbeStack('run-memory', OVERALL_CAP_MS, { KEY_PREFIX: 'aw' }, async (stack) => {
    const { local, edge, env, client, keys } = stack;
    await sleep(2000);
    const before = await usedMemory(client);
    const keysBefore = await client.dbsize();
    const toFill = Array.from({ length: runs }, (_, i) => ({
      userId: `mem-u${i % users}`,
      runId: `mem-r${i}`,
    }));
    log(`filling ${runs} runs of ${bytes} bytes over ${users} users`);
    const fillStart = performance.now();
    const filled = await fillRuns({
      baseUrl: edge.url,
      ingestToken: env.INGEST_TOKEN ?? '',
      runs: toFill,
      bytesPerRun: bytes,
    });
    const short = await waitPersisted(client, keys, filled, 120_000);
    if (short.length > 0) throw new Error(`${short.length} runs were not persisted within 120 s`);
    const fillSec = (performance.now() - fillStart) / 1000;
    const appends = filled.reduce((sum, run) => sum + run.appends, 0);
    log(`${appends} appends persisted in ${fillSec.toFixed(1)} s; waiting for the ingest trim`);
    await sleep(TRIM_WAIT_MS);
    const after = await usedMemory(client);
    const keysAfter = await client.dbsize();

    const { byKind, textSizes } = await memoryByKind(client, `${keys.prefix}:*`);
    const perRun = (value: number): number => Math.round(value / runs);
    const kind = (name: KeyKind): { keys: number; bytes: number; bytesPerRun: number } => {
      const entry = byKind.get(name) ?? { keys: 0, bytes: 0 };
      return { ...entry, bytesPerRun: perRun(entry.bytes) };
    };
    const runOwn = (['run-hash', 'run-text', 'user-runs', 'shard-running'] as const).reduce(
      (sum, name) => sum + (byKind.get(name)?.bytes ?? 0),
      0,
    );
    const result = {
      kind: 'run-memory',
      createdAt: createdAt.toISOString(),
      command: `npx tsx loadtest/run-memory.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(local.redisVersion),
      runs,
      users,
      textBytesPerRun: bytes,
      appends,
      appendsPerRun: appends / runs,
      fillSec,
      usedMemory: { before, after, delta: after - before, perRun: perRun(after - before) },
      keys: { before: keysBefore, after: keysAfter },
      memoryUsageByKind: Object.fromEntries(
        [...byKind.keys()].sort().map((name) => [name, kind(name)]),
      ),
      runKeysPerRun: perRun(runOwn),
      // MEMORY USAGE of a text key -> how many text keys take that much.
      textKeySizes: Object.fromEntries([...textSizes].sort((a, b) => b[1] - a[1]).slice(0, 20)),
    };
    const path = await writeJsonReport(values.out, createdAt, 'run-memory.json', result);
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(
        [
          `${runs} runs of ${bytes} bytes (${(appends / runs).toFixed(0)} appends each) over ${users} users`,
          `used_memory ${before} -> ${after}: ${result.usedMemory.perRun} bytes per run`,
          `MEMORY USAGE by kind of key (bytes per run):`,
          ...Object.entries(result.memoryUsageByKind).map(
            ([name, entry]) =>
              `  ${name.padEnd(14)} ${String(entry.keys).padStart(8)} keys ${String(entry.bytesPerRun).padStart(8)}`,
          ),
          `  the run's own keys (hash, text, indexes): ${result.runKeysPerRun} bytes per run`,
          `text keys by MEMORY USAGE (bytes: keys): ${Object.entries(result.textKeySizes)
            .map(([bytes, count]) => `${bytes}: ${count}`)
            .join(', ')}`,
          `report: ${path}`,
        ].join('\n'),
      );
    }
    return 0;
  });
});

async function usedMemory(client: RedisClient): Promise<number> {
  return Number(infoField(await client.info('memory'), 'used_memory'));
}

/** SCANs every key matching `pattern` and sums MEMORY USAGE (exact: SAMPLES 0) per kind. */
/** Keys and bytes per kind; for the texts also how many keys take each size (APPEND's growth shows there). */
async function memoryByKind(
  client: RedisClient,
  pattern: string,
): Promise<{
  byKind: Map<KeyKind, { keys: number; bytes: number }>;
  textSizes: Map<number, number>;
}> {
  const byKind = new Map<KeyKind, { keys: number; bytes: number }>();
  const textSizes = new Map<number, number>();
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    cursor = next;
    const pipeline = client.pipeline();
    for (const key of found) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    const replies = (await pipeline.exec()) ?? [];
    found.forEach((key, i) => {
      const kind = keyKindOf(key);
      const bytes = Number(replies[i]?.[1] ?? 0);
      const entry = byKind.get(kind) ?? { keys: 0, bytes: 0 };
      entry.keys++;
      entry.bytes += bytes;
      byKind.set(kind, entry);
      if (kind === 'run-text') textSizes.set(bytes, (textSizes.get(bytes) ?? 0) + 1);
    });
  } while (cursor !== '0');
  return { byKind, textSizes };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
