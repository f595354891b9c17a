import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  appendToIngest,
  createKeyLayout,
  createRedisClient,
  type IngestEntry,
  type KeyLayout,
  type RedisClient,
} from '@agentwire/redis';
import { repoRoot, startRedis } from '@agentwire/testing';
import { numberArg, parseCli, runCli, UsageError } from './src/cli-args.js';
import { appendTextOf, FLEET_STREAM } from './src/fleet-events.js';
import { infoField, machineInfo } from './src/machine-info.js';
import { writeJsonReport } from './src/report-writer.js';
import { boundCall, sendBoundCall, type SequencerMemory } from './src/stateful-sequencer-bound.js';

const USAGE = `Usage: npx tsx loadtest/persist-script-cost.ts [options]

Redis's CPU per event of the buffer's persist script (persist-batch-1.lua) alone, in read mode
with forwarding, as the buffer calls it on a single Redis. Starts a private Redis (no
persistence), routes --users users to one inbox, then per call appends --per-call critical
events of random users (of run "fleet", as the suite's fleet sends them) to the 16 ingest
shards and calls the script for the shards that got them. Redis CPU comes from INFO cpu
(getrusage: CPU time, not wall time, so a busy host inflates it less than commandstats).
Each round measures the appends alone, then each script once, in order: the script's cost
is its loop's CPU minus the appends-only loop's. Compare scripts in the same run:
  --scripts A,B   Lua files to compare (default packages/redis/lua/persist-batch-1.lua); a
                  variant is the same script edited (say, one redis.call removed)
  --per-call N    events per call, 1..1000 (default 50)
  --calls N       measured calls per loop, 10..20000 (default 1500; 50 more warm up first)
  --users N       users, 1..100000 (default 1000)
  --rounds N      rounds, 1..20 (default 3)
  --no-run        events without a run
  --appends       appends (5-20 bytes of text to the run's stream "answer", not critical)
                  instead of critical events
  --bound         also measure, in each round, the bound of a sequencer that keeps every
                  user's state in its own memory: the reads it cannot avoid, then blind
                  writes under WATCH/MULTI (loadtest/src/stateful-sequencer-bound.ts);
                  critical events of a run only
  --json          print the result as JSON
  --out DIR       report root: writes DIR/<timestamp>/persist-script-cost.json`;

const SHARDS = 16;
const WARMUP_CALLS = 50;
const GROUP = 'bench-group';
const CONSUMER = 'bench-buffer';
const LEASE_VALUE = 'bench-buffer|token';
const EDGE = 'bench-edge';

/** Redis's own figures for a loop, per event (microseconds). */
interface LoopCost {
  /** CPU time of the Redis process (INFO cpu). */
  cpu: number;
  /** Time inside script calls (INFO commandstats, wall time). */
  scripts: number;
  /** Of that, time inside the commands the scripts called. */
  commands: number;
}

/** Commands the loop sends itself, not from inside a script. */
const OUTSIDE_SCRIPTS = new Set(['evalsha', 'info', 'config|resetstat', 'xtrim']);

interface LoopOptions {
  perCall: number;
  calls: number;
  users: number;
  withRun: boolean;
  appends: boolean;
}

runCli(USAGE, async () => {
  const values = parseCli({
    scripts: { type: 'string' },
    'per-call': { type: 'string' },
    calls: { type: 'string' },
    users: { type: 'string' },
    rounds: { type: 'string' },
    'no-run': { type: 'boolean' },
    appends: { type: 'boolean' },
    bound: { type: 'boolean' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const loop: LoopOptions = {
    perCall: numberArg(values, 'per-call', 50, { min: 1, max: 1000 }),
    calls: numberArg(values, 'calls', 1500, { min: 10, max: 20_000 }),
    users: numberArg(values, 'users', 1000, { min: 1, max: 100_000 }),
    withRun: values['no-run'] !== true,
    appends: values.appends === true,
  };
  if (loop.appends && !loop.withRun) throw new UsageError('--appends needs a run: drop --no-run');
  const withBound = values.bound === true;
  if (withBound && (loop.appends || !loop.withRun)) {
    throw new UsageError('--bound measures critical events of a run: drop --appends and --no-run');
  }
  const rounds = numberArg(values, 'rounds', 3, { min: 1, max: 20 });
  const scripts = (
    typeof values.scripts === 'string'
      ? values.scripts.split(',')
      : [`${repoRoot()}/packages/redis/lua/persist-batch-1.lua`]
  ).map((path) => {
    try {
      return { path, source: readFileSync(resolve(path), 'utf8') };
    } catch {
      throw new UsageError(`--scripts: cannot read ${path}`);
    }
  });
  const log = (line: string): void => console.error(line);
  const createdAt = new Date();

  const redis = await startRedis();
  const client = createRedisClient({ url: redis.url }, { name: 'persist-script-cost' });
  try {
    const shas = await Promise.all(
      scripts.map(({ source }) => client.script('LOAD', source) as Promise<string>),
    );
    const perEvent: LoopCost[][] = scripts.map(() => []);
    const appendsOnly: LoopCost[] = [];
    const boundPerEvent: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const baseline = await measureLoop(client, loop, undefined);
      appendsOnly.push(baseline);
      for (const [i, sha] of shas.entries()) {
        const total = await measureLoop(client, loop, scriptStep(client, sha));
        const cost: LoopCost = {
          cpu: total.cpu - baseline.cpu,
          scripts: total.scripts - baseline.scripts,
          commands: total.commands - baseline.commands,
        };
        perEvent[i]?.push(cost);
        log(`round ${round}: ${scripts[i]?.path} ${cost.cpu.toFixed(1)} µs/event`);
      }
      if (withBound) {
        const total = await measureLoop(client, loop, boundStep(client));
        boundPerEvent.push(total.cpu - baseline.cpu);
        log(
          `round ${round}: stateful sequencer bound ${(total.cpu - baseline.cpu).toFixed(1)} µs/event`,
        );
      }
    }
    const info = await client.info('server');
    const result = {
      machine: machineInfo(infoField(info, 'redis_version') ?? 'unknown'),
      options: { ...loop, rounds, shards: SHARDS },
      appendsOnlyUsPerEvent: appendsOnly.map((cost) => round1(cost.cpu)),
      scripts: scripts.map(({ path }, i) => {
        const costs = perEvent[i] ?? [];
        return {
          path,
          usPerEvent: costs.map((cost) => round1(cost.cpu)),
          meanUsPerEvent: round1(mean(costs.map((cost) => cost.cpu))),
          // Wall time, so only the ratio means much: how much of a call is the commands.
          meanScriptUsPerEvent: round1(mean(costs.map((cost) => cost.scripts))),
          meanCommandsUsPerEvent: round1(mean(costs.map((cost) => cost.commands))),
        };
      }),
      statefulSequencerBound: withBound
        ? { usPerEvent: boundPerEvent.map(round1), meanUsPerEvent: round1(mean(boundPerEvent)) }
        : undefined,
    };
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      for (const script of result.scripts) {
        console.log(
          `${script.path}: ${script.meanUsPerEvent} µs of Redis CPU per event (rounds: ${script.usPerEvent.join(', ')}); in the script ${script.meanScriptUsPerEvent} µs, of which in its commands ${script.meanCommandsUsPerEvent}`,
        );
      }
      const bound = result.statefulSequencerBound;
      if (bound !== undefined) {
        console.log(
          `stateful sequencer bound: ${bound.meanUsPerEvent} µs of Redis CPU per event (rounds: ${bound.usPerEvent.join(', ')})`,
        );
      }
    }
    log(
      `report: ${await writeJsonReport(values.out, createdAt, 'persist-script-cost.json', result)}`,
    );
    return 0;
  } finally {
    client.disconnect();
    await redis.stop();
  }
});

/** What a loop does after each call's appends: persist them (or nothing, for the appends alone). */
type PersistStep = (keys: KeyLayout, events: readonly IngestEntry[]) => Promise<void>;

/** The persist script, called as the buffer calls it; read marks per shard across the loop. */
function scriptStep(client: RedisClient, sha: string): PersistStep {
  const marks = new Map<number, string>();
  return (keys, events) => persist(client, keys, sha, events, marks);
}

/** The stateful sequencer's bound; its memory lives as long as the loop's database. */
function boundStep(client: RedisClient): PersistStep {
  const memory: SequencerMemory = new Map();
  return (keys, events) => {
    const shards = [...new Set(events.map((event) => keys.shardOf(event.userId)))];
    const call = boundCall(events, memory, {
      keys,
      inbox: keys.inbox(EDGE),
      leaseKeys: shards.map((shard) => keys.lease(shard)),
      group: GROUP,
      consumer: CONSUMER,
      dedupeMs: 86_400_000,
      retentionMax: 1000,
      runId: 'fleet',
      now: Date.now(),
    });
    return sendBoundCall(client, call);
  };
}

/**
 * Redis's figures per event of one loop from a fresh database: appends, and
 * when `step` is given the persist call after each.
 */
async function measureLoop(
  client: RedisClient,
  loop: LoopOptions,
  step: PersistStep | undefined,
): Promise<LoopCost> {
  const keys = createKeyLayout('bench', SHARDS);
  await prepare(client, keys, loop.users);
  let next = 0;
  let cpuStart = 0;
  for (let call = 0; call < WARMUP_CALLS + loop.calls; call++) {
    if (call === WARMUP_CALLS) {
      await client.config('RESETSTAT');
      cpuStart = await redisCpuSeconds(client);
    }
    const events = eventsOf(loop, next);
    next += loop.perCall;
    await appendToIngest(client, keys, events);
    if (step !== undefined) await step(keys, events);
    // Keeps the streams short, as the buffer's and edges' trimming does.
    if (call % 50 === 49) await trimStreams(client, keys);
  }
  const seconds = (await redisCpuSeconds(client)) - cpuStart;
  const events = loop.calls * loop.perCall;
  const usec = commandUsec(await client.info('commandstats'));
  let commands = 0;
  for (const [name, value] of usec) if (!OUTSIDE_SCRIPTS.has(name)) commands += value;
  return {
    cpu: (seconds * 1e6) / events,
    scripts: (usec.get('evalsha') ?? 0) / events,
    commands: commands / events,
  };
}

/** `usec` per command of INFO commandstats (`cmdstat_<name>:calls=..,usec=..,...`). */
function commandUsec(info: string): Map<string, number> {
  const usec = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):.*?usec=(\d+)/gm)) {
    usec.set(match[1] as string, Number(match[2]));
  }
  return usec;
}

async function prepare(client: RedisClient, keys: KeyLayout, users: number): Promise<void> {
  await client.flushall();
  const writes: Array<Promise<unknown>> = [];
  for (let u = 0; u < users; u++) writes.push(client.hset(keys.userRoutes(userOf(u)), EDGE, 1));
  for (let s = 0; s < SHARDS; s++) {
    writes.push(client.xgroup('CREATE', keys.ingest(s), GROUP, '$', 'MKSTREAM'));
    writes.push(client.set(keys.lease(s), LEASE_VALUE));
  }
  await Promise.all(writes);
}

function userOf(index: number): string {
  return `bench-user-${index}`;
}

/** `perCall` events (critical, or appends) from event number `first` on, spread over the users. */
function eventsOf(loop: LoopOptions, first: number): IngestEntry[] {
  const ts = Date.now();
  const events: IngestEntry[] = [];
  for (let n = first; n < first + loop.perCall; n++) {
    // A stride prime to any user count up to 100,000: consecutive events go to different users.
    const userId = userOf((n * 7919) % loop.users);
    const id = `bench-${n}`;
    if (loop.appends) {
      const text = appendTextOf(n);
      events.push({
        id,
        userId,
        critical: false,
        body: `"id":"${id}","critical":false,"name":"token","runId":"fleet","stream":"${FLEET_STREAM}","append":${JSON.stringify(text)},"ts":${ts}}`,
        run: { runId: 'fleet', kind: 'append', stream: FLEET_STREAM, text },
      });
      continue;
    }
    const run = loop.withRun ? `"runId":"fleet",` : '';
    events.push({
      id,
      userId,
      critical: true,
      body: `"id":"${id}","critical":true,"name":"tool_executing","ts":${ts},${run}"data":{"sentAt":${ts},"user":"${userId}"}}`,
      run: loop.withRun ? { runId: 'fleet', kind: 'event' } : undefined,
    });
  }
  return events;
}

/** One call in read mode with forwarding for the shards `events` went to, as the buffer makes it. */
async function persist(
  client: RedisClient,
  keys: KeyLayout,
  sha: string,
  events: readonly IngestEntry[],
  marks: Map<number, string>,
): Promise<void> {
  const shards = [...new Set(events.map((e) => keys.shardOf(e.userId)))];
  const [inboxBefore, inboxAfter] = keys.inboxKeyParts();
  const args: Array<string | number> = [
    Date.now(),
    86_400_000,
    1000,
    86_400_000,
    'bench-epoch',
    inboxBefore,
    inboxAfter,
    100_000,
    GROUP,
    1_048_576,
    100,
    3_600_000,
    60_000,
    shards.length,
    CONSUMER,
  ];
  for (const s of shards) {
    args.push(keys.shardBase(s), keys.lease(s), LEASE_VALUE, keys.ingest(s), marks.get(s) ?? '');
    // Read mode: up to 1000 entries, no extra acks, no oldest id (the order guard reads the group).
    args.push(-1000, 0, '');
  }
  const first = shards[0] ?? 0;
  const [results] = (await client.evalsha(sha, 1, keys.lease(first), ...args)) as [number[]];
  for (const [i, s] of shards.entries()) {
    if (results[2 * i] !== 0) throw new Error(`shard ${s}: script answered ${results[2 * i]}`);
    marks.set(s, String(results[2 * i + 1]));
  }
}

async function trimStreams(client: RedisClient, keys: KeyLayout): Promise<void> {
  const trims: Array<Promise<unknown>> = [client.xtrim(keys.inbox(EDGE), 'MAXLEN', 0)];
  for (let s = 0; s < SHARDS; s++) trims.push(client.xtrim(keys.ingest(s), 'MAXLEN', 0));
  await Promise.all(trims);
}

async function redisCpuSeconds(client: RedisClient): Promise<number> {
  const info = await client.info('cpu');
  return Number(infoField(info, 'used_cpu_user')) + Number(infoField(info, 'used_cpu_sys'));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
