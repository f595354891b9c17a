import { snapshotFrame } from '@agentwire/edge/dist/ws/server-frames.js';
import { readRun } from '@agentwire/redis';
import { signToken } from '@agentwire/testing';
import { numberArg, parseCli, runCli } from './src/cli-args.js';
import { FLEET_STREAM } from './src/fleet-events.js';
import { LatencyHistogram } from './src/latency-histogram.js';
import { infoField, machineInfo } from './src/machine-info.js';
import type { LatencySummary } from './src/percentile.js';
import { writeJsonReport } from './src/report-writer.js';
import { fillRuns, waitPersisted } from './src/run-filler.js';
import { withRunProbeStack } from './src/run-probe-stack.js';

const USAGE = `Usage: npx tsx loadtest/snapshot-cost.ts [options]

The cost of a run's snapshot (protocol.md section 9). Starts a private stack (1 edge, 1 buffer,
Redis without persistence), fills one run with appends of 5-20 bytes through POST /v1/events
and the buffer's persist script until its text holds --kb KiB, then, with the services
stopped (so Redis does nothing else), reads it --reads times the way the edge does: readRun
(read-run-1.lua, one round trip) then snapshotFrame (JSON). Reports p50/p99 of each, the
frame's size, Redis's own time per script call (INFO commandstats) and this process's CPU
per read (the part the edge pays): CPU time, unlike latency, a busy machine does not inflate.
Before the services stop, --http-reads GET /v1/runs/{runId} give the same snapshot end to
end, for comparison.
  --kb N           text of the run in KiB, 1..1000 (default 100; RUN_MAX_BYTES is 1024 KiB)
  --reads N        measured reads, 10..20000 (default 1000; 50 more warm up first)
  --http-reads N   GET /v1/runs/{runId} requests, 0..5000 (default 200)
  --json           print the result as JSON
  --out DIR        report root: writes DIR/<timestamp>/snapshot-cost.json (default loadtest/reports)`;

const OVERALL_CAP_MS = 5 * 60 * 1000;
const WARMUP = 50;

interface CommandStat {
  calls: number;
  usecPerCall: number;
}

runCli(USAGE, async () => {
  const values = parseCli({
    kb: { type: 'string' },
    reads: { type: 'string' },
    'http-reads': { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const kb = numberArg(values, 'kb', 100, { min: 1, max: 1000 });
  const reads = numberArg(values, 'reads', 1000, { min: 10, max: 20_000 });
  const httpReads = numberArg(values, 'http-reads', 200, { min: 0, max: 5000 });
  const log = (line: string): void => console.error(line);

  const createdAt = new Date();
  return withRunProbeStack('snapshot-cost', OVERALL_CAP_MS, { KEY_PREFIX: 'aw' }, async (stack) => {
    const { local, edge, env, client, keys } = stack;
    const userId = 'snapshot-user';
    const runId = 'snapshot-run';

    log(`filling ${runId} with ${kb} KiB of appends`);
    const fillStart = performance.now();
    const [filled] = await fillRuns({
      baseUrl: edge.url,
      ingestToken: env.INGEST_TOKEN ?? '',
      runs: [{ userId, runId }],
      bytesPerRun: kb * 1024,
    });
    if (!filled) throw new Error('nothing filled');
    const postedSec = (performance.now() - fillStart) / 1000;
    const short = await waitPersisted(client, keys, [filled], 60_000);
    if (short.length > 0) throw new Error('the run was not persisted within 60 s');
    const fillSec = (performance.now() - fillStart) / 1000;
    const stored = await readRun(client, keys, userId, runId);
    const stream = stored?.streams.find((s) => s.name === FLEET_STREAM);
    if (stream?.text !== filled.text || stream.chunks !== filled.appends) {
      throw new Error('the stored text is not the text sent');
    }
    const textBytes = Buffer.byteLength(filled.text);
    log(
      `${filled.appends} appends, ${textBytes} bytes: posted in ${postedSec.toFixed(1)} s, persisted after ${fillSec.toFixed(1)} s`,
    );

    // End to end through the edge, while it runs.
    const http = new LatencyHistogram();
    if (httpReads > 0) {
      const token = await signToken({ sub: userId, secret: env.JWT_SECRET ?? '' });
      const url = new URL(`/v1/runs/${runId}`, edge.url);
      const get = async (): Promise<number> => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        const body = await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET /v1/runs answered ${res.status}`);
        return body.byteLength;
      };
      for (let i = 0; i < 20; i++) await get();
      for (let i = 0; i < httpReads; i++) {
        const started = performance.now();
        await get();
        http.record(performance.now() - started);
      }
    }

    // The services stop, so Redis serves nothing but these reads (clean commandstats).
    await Promise.all([...local.stack.edges, ...local.stack.buffers].map((p) => p.stop()));

    const redisRead = new LatencyHistogram();
    const serialise = new LatencyHistogram();
    const total = new LatencyHistogram();
    let frameBytes = 0;
    for (let i = 0; i < WARMUP; i++)
      snapshotFrame(runId, await readRun(client, keys, userId, runId));
    await client.config('RESETSTAT');
    // CPU of this process over the loop: what the edge spends per snapshot (reply parsing and
    // JSON), however long the scheduler keeps it waiting on a busy machine.
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < reads; i++) {
      const t0 = performance.now();
      const run = await readRun(client, keys, userId, runId);
      const t1 = performance.now();
      const frame = snapshotFrame(runId, run);
      const t2 = performance.now();
      redisRead.record(t1 - t0);
      serialise.record(t2 - t1);
      total.record(t2 - t0);
      if (i === 0) frameBytes = Buffer.byteLength(frame);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const clientCpu = { userUsPerRead: cpu.user / reads, systemUsPerRead: cpu.system / reads };
    const scriptStat = commandStat(await client.info('commandstats'), 'evalsha');

    // For scale: the text key alone, one GET (no script, no parsing into a record).
    const textKey = keys.runText(userId, runId, FLEET_STREAM);
    const plainGet = new LatencyHistogram();
    for (let i = 0; i < WARMUP; i++) await client.getBuffer(textKey);
    for (let i = 0; i < reads; i++) {
      const started = performance.now();
      await client.getBuffer(textKey);
      plainGet.record(performance.now() - started);
    }

    const result = {
      kind: 'snapshot-cost',
      createdAt: createdAt.toISOString(),
      command: `npx tsx loadtest/snapshot-cost.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(local.redisVersion),
      run: { appends: filled.appends, textBytes, frameBytes, postedSec, fillSec },
      reads,
      readRunMs: redisRead.summary(),
      snapshotFrameMs: serialise.summary(),
      readAndFrameMs: total.summary(),
      redisScript: scriptStat,
      clientCpu,
      plainGetOfTextMs: plainGet.summary(),
      httpGetRunMs: httpReads > 0 ? http.summary() : null,
      redisInfo: {
        usedMemory: Number(infoField(await client.info('memory'), 'used_memory')),
      },
    };
    const path = await writeJsonReport(values.out, createdAt, 'snapshot-cost.json', result);
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      const line = (name: string, s: LatencySummary): string =>
        `  ${name.padEnd(34)} p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  max ${s.max.toFixed(3)} ms`;
      console.log(
        [
          `run: ${filled.appends} appends, ${textBytes} bytes of text; snapshot frame ${frameBytes} bytes`,
          `${reads} reads:`,
          line('readRun (round trip + parse)', result.readRunMs),
          line('snapshotFrame (JSON)', result.snapshotFrameMs),
          line('both', result.readAndFrameMs),
          `  CPU per snapshot: Redis ${scriptStat.usecPerCall.toFixed(1)} µs per read-run-1 call (commandstats, ${scriptStat.calls} calls), this process ${clientCpu.userUsPerRead.toFixed(0)} µs user + ${clientCpu.systemUsPerRead.toFixed(0)} µs system (reply and JSON)`,
          line('GET of the text key alone', result.plainGetOfTextMs),
          ...(result.httpGetRunMs
            ? [line('GET /v1/runs/{runId} (edge)', result.httpGetRunMs)]
            : []),
          `report: ${path}`,
        ].join('\n'),
      );
    }
    return 0;
  });
});

/** calls and usec_per_call of one command from INFO commandstats. */
function commandStat(info: string, command: string): CommandStat {
  const match = new RegExp(
    `^cmdstat_${command}:calls=(\\d+),usec=\\d+,usec_per_call=([\\d.]+)`,
    'm',
  ).exec(info);
  return { calls: Number(match?.[1] ?? 0), usecPerCall: Number(match?.[2] ?? Number.NaN) };
}
