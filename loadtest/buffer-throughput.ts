/**
 * Buffer throughput: preloads N events into the ingest shards of a private
 * Redis, with every user routed to one (fake) edge inbox, then starts R buffer
 * replicas and times how long they take to sequence, persist and forward all
 * of them. Loopback only, bounded by the event count and a timeout.
 *
 *   npx tsx loadtest/buffer-throughput.ts --events 200000 --replicas 1
 *   npx tsx loadtest/buffer-throughput.ts --events 200000 --replicas 2
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { appendToIngest, createKeyLayout, createRedisClient } from '@agentwire/redis';
import { type ServiceProcess, startRedis, startService, getFreePort } from '@agentwire/testing';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    replicas: { type: 'string', default: '1' },
    users: { type: 'string', default: '1000' },
    shards: { type: 'string', default: '16' },
    critical: { type: 'string', default: '0.5' },
    'timeout-s': { type: 'string', default: '120' },
  },
});
const events = Number(values.events);
const replicas = Number(values.replicas);
const users = Number(values.users);
const shards = Number(values.shards);
const criticalShare = Number(values.critical);
const timeoutMs = Math.min(300, Number(values['timeout-s'])) * 1000;

function cpuSeconds(pid: number): number {
  const stat = readStat(pid);
  return (Number(stat[13]) + Number(stat[14])) / 100;
}

function readStat(pid: number): string[] {
  // Fields after the command name, which is in parentheses and may contain spaces.
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return ['', ''].concat(text.slice(text.lastIndexOf(')') + 2).split(' '));
}

async function ownedShards(service: ServiceProcess): Promise<number> {
  const text = await fetch(`${service.url}/metrics`).then((r) => r.text());
  return Number(/^aw_buffer_owned_shards\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
}

async function waitForBalance(services: ServiceProcess[], shardCount: number): Promise<void> {
  const share = Math.ceil(shardCount / services.length);
  for (let i = 0; i < 200; i++) {
    const owned = await Promise.all(services.map(ownedShards));
    if (owned.every((n) => n === share || n === Math.floor(shardCount / services.length))) {
      if (owned.reduce((a, b) => a + b, 0) === shardCount) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('buffers did not split the shards within 20 s');
}

const redis = await startRedis();
const prefix = 'bench';
const keys = createKeyLayout(prefix, shards);
const client = createRedisClient({ url: redis.url }, { name: 'bench' });
const processes: ServiceProcess[] = [];
try {
  const userIds = Array.from({ length: users }, (_, i) => `bench-user-${i}`);
  await Promise.all(userIds.map((u) => client.hset(keys.userRoutes(u), 'bench-edge', 1)));

  const env = {
    REDIS_URL: redis.url,
    KEY_PREFIX: prefix,
    SHARDS: String(shards),
    // Long enough that leases survive the replicas being stopped during the preload.
    LEASE_TTL_MS: '60000',
    INBOX_MAXLEN: '100000',
    LOG_LEVEL: 'warn',
  };
  processes.push(
    ...(await Promise.all(
      Array.from({ length: replicas }, async (_, r) =>
        startService('buffer', {
          ...env,
          BUFFER_ID: `bench-${r}`,
          PORT: String(await getFreePort()),
        }),
      ),
    )),
  );
  // Let the replicas split the shards evenly before the load arrives.
  await waitForBalance(processes, shards);
  // Preload while the replicas are stopped, so the run measures the buffer alone.
  processes.forEach((p) => p.signal('SIGSTOP'));
  const preloadStart = performance.now();
  const data = JSON.stringify({ text: 'x'.repeat(120) });
  for (let start = 0; start < events; start += 5000) {
    const chunk = [];
    for (let n = start; n < Math.min(events, start + 5000); n++) {
      const critical = (n % 100) / 100 < criticalShare;
      const id = `b-${n}`;
      chunk.push({
        id,
        userId: userIds[n % users] as string,
        critical,
        body: `"id":"${id}","critical":${critical},"name":"tool_executing","ts":${Date.now()},"data":${data}}`,
      });
    }
    await appendToIngest(client, keys, chunk);
  }
  const preloadSeconds = (performance.now() - preloadStart) / 1000;
  const cpuStart = processes.map((p) => cpuSeconds(p.pid));
  const redisPid = Number((await client.info('server')).match(/process_id:(\d+)/)?.[1]);
  const redisCpuStart = cpuSeconds(redisPid);
  const loadStart = performance.now();
  processes.forEach((p) => p.signal('SIGCONT'));
  let done = 0;
  while (performance.now() - loadStart < timeoutMs) {
    const totals = await Promise.all(
      Array.from({ length: shards }, async (_, shard) => {
        const groups = (await client
          .xinfo('GROUPS', keys.ingest(shard))
          .catch(() => [])) as unknown[][];
        const info = groups[0];
        if (!info) return 0;
        const read = Number(info[info.indexOf('entries-read') + 1]);
        const pending = Number(info[info.indexOf('pending') + 1]);
        return read - pending;
      }),
    );
    done = totals.reduce((a, b) => a + b, 0);
    if (done >= events) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const ended = performance.now();
  const seconds = (ended - loadStart) / 1000;
  const rate = done / seconds;
  const cpu = processes.map((p, i) => (cpuSeconds(p.pid) - (cpuStart[i] as number)) / seconds);
  const redisCpu = (cpuSeconds(redisPid) - redisCpuStart) / seconds;
  const result = {
    events,
    processed: done,
    replicas,
    shards,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(rate),
    preloadSeconds: Number(preloadSeconds.toFixed(2)),
    bufferCpuPercent: cpu.map((c) => Math.round(c * 100)),
    redisCpuPercent: Math.round(redisCpu * 100),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (done < events) process.exitCode = 1;
} finally {
  await Promise.all(processes.map((p) => p.stop()));
  client.disconnect();
  await redis.stop();
}
