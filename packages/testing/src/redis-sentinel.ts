import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { makeTempDir, removeTempDir } from './temp-dir.js';
import { redisProbe } from './redis-probe.js';
import {
  killRedisProcess,
  signalRedisNode,
  spawnRedisOnFreePort,
  waitForInSyncReplica,
  type RedisProcess,
} from './redis-process.js';
import type { TestRedis } from './test-redis.js';
import { waitUntil } from './wait-until.js';

export interface StartSentinelOptions {
  /** Replicas of the primary. @default 2 */
  replicas?: number;
  /** Sentinel processes (quorum: a majority of them). @default 3 */
  sentinels?: number;
  /** Sentinel's down-after-milliseconds: how long a silent primary takes to be declared down. @default 1000 */
  downAfterMs?: number;
}

/**
 * A private Sentinel topology on 127.0.0.1: one primary, its replicas, and
 * Sentinels that monitor it (each with its own writable config file, which
 * Sentinel rewrites). Ports of data nodes stay fixed; which one is the
 * primary changes with a failover.
 */
export interface RedisSentinelTopology {
  /** The monitored primary's name. */
  readonly name: string;
  /** Data nodes in start order: the first primary, then the replicas. */
  readonly dataPorts: number[];
  readonly sentinelPorts: number[];
  /** `{ REDIS_SENTINELS, REDIS_SENTINEL_NAME }` for a service's environment. */
  readonly env: Record<string, string>;
  /** The primary the Sentinels name now. */
  primaryPort(): Promise<number>;
  /** Waits until the Sentinels name a primary other than `oldPort` and it answers as a master. */
  waitForNewPrimary(oldPort: number, timeoutMs: number): Promise<number>;
  /** Sends a signal to the data node on `port` (SIGSTOP, SIGCONT...); SIGKILL waits for the exit. */
  signal(port: number, signal: NodeJS.Signals): Promise<void>;
  /**
   * Cuts the replicas of the primary on `port` off while it keeps serving the
   * clients already connected: it gets a password its replicas do not know
   * and drops their links. Every write from now on exists on the primary
   * alone, the writes a failover throws away. reconnectReplicas() undoes it.
   */
  cutReplicas(port: number): Promise<void>;
  /** Removes the password cutReplicas() set, so Sentinel can turn the node into a replica. */
  reconnectReplicas(port: number): Promise<void>;
  /** Waits until the data node on `port` is a replica in sync with the current primary. */
  waitForReplica(port: number, timeoutMs: number): Promise<void>;
  /** This topology as the Redis of a test stack (stack.stop() leaves it running). */
  asTestRedis(): TestRedis;
  stop(): Promise<void>;
}

const NAME = 'aw-primary';
const CUT_PASSWORD = 'replicas-cut-off';
const SYNC_TIMEOUT_MS = 20_000;

export async function startRedisSentinel(
  options: StartSentinelOptions = {},
): Promise<RedisSentinelTopology> {
  const dir = await makeTempDir('aw-redis-sentinel-');
  const data: RedisProcess[] = [];
  const sentinels: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    // SIGCONT first: a stopped process does not act on SIGKILL until continued on some kernels.
    for (const proc of [...data, ...sentinels]) if (!proc.hasExited()) proc.child.kill('SIGCONT');
    await Promise.all([...sentinels, ...data].map((proc) => killRedisProcess(proc, 'SIGKILL')));
    await removeTempDir(dir);
  };
  try {
    const dataArgs = (port: number): string[] => [
      '--bind', '127.0.0.1',
      '--port', String(port),
      '--save', '',
      '--dir', dir,
      '--dbfilename', `dump-${port}.rdb`,
      '--appendonly', 'no',
      // Replica reconnects and partial resyncs within the test's time frame.
      '--repl-timeout', '5',
      '--repl-ping-replica-period', '1',
    ]; // prettier-ignore
    const primary = (await spawnRedisOnFreePort(dataArgs)).proc;
    data.push(primary);
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      const replica = await spawnRedisOnFreePort((port) => [
        ...dataArgs(port),
        '--replicaof', '127.0.0.1', String(primary.port),
      ]); // prettier-ignore
      data.push(replica.proc);
    }
    await waitUntil(
      async () =>
        (await redisProbe(primary.port, ['INFO', 'replication'])).includes(
          `connected_slaves:${data.length - 1}`,
        ),
      SYNC_TIMEOUT_MS,
      50,
      'replicas connected to the primary',
    );

    const count = options.sentinels ?? 3;
    const quorum = Math.floor(count / 2) + 1;
    for (let i = 0; i < count; i++) {
      const { proc } = await spawnRedisOnFreePort(async (port) => {
        const file = join(dir, `sentinel-${port}.conf`);
        await writeFile(
          file,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            `dir ${dir}`,
            `sentinel monitor ${NAME} 127.0.0.1 ${primary.port} ${quorum}`,
            `sentinel down-after-milliseconds ${NAME} ${options.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${NAME} 5000`,
            `sentinel parallel-syncs ${NAME} 2`,
            '',
          ].join('\n'),
        );
        return [file];
      }, 'redis-sentinel');
      sentinels.push(proc);
    }
    const sentinelPorts = sentinels.map((proc) => proc.port);
    // A failover needs Sentinels that know each other and the replicas (hello messages, ~2 s).
    await waitUntil(
      async () => {
        for (const port of sentinelPorts) {
          const client = sentinelClient(port);
          try {
            const peers = (await client.call('SENTINEL', 'sentinels', NAME)) as unknown[];
            const replicas = (await client.call('SENTINEL', 'replicas', NAME)) as unknown[];
            if (peers.length < count - 1 || replicas.length < data.length - 1) return false;
          } finally {
            client.disconnect();
          }
        }
        return true;
      },
      SYNC_TIMEOUT_MS,
      100,
      'Sentinels that know each other and every replica',
    );

    const dataPorts = data.map((proc) => proc.port);
    const env = {
      REDIS_SENTINELS: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      REDIS_SENTINEL_NAME: NAME,
    };
    const primaryPort = async (): Promise<number> => {
      const client = sentinelClient(sentinelPorts[0] as number);
      try {
        const [, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', NAME)) as [
          string,
          string,
        ];
        return Number(port);
      } finally {
        client.disconnect();
      }
    };
    return {
      name: NAME,
      dataPorts,
      sentinelPorts,
      env,
      primaryPort,
      async waitForNewPrimary(oldPort, timeoutMs) {
        let found = 0;
        await waitUntil(
          async () => {
            const port = await primaryPort();
            if (port === oldPort) return false;
            const role = await redisProbe(port, ['INFO', 'replication']);
            found = port;
            return /^role:master\r?$/m.test(role);
          },
          timeoutMs,
          50,
          `a primary other than ${oldPort}`,
        );
        return found;
      },
      signal: (port, signal) => signalRedisNode(data, port, signal),
      async cutReplicas(port) {
        // One connection: it stays authenticated after the password is set.
        const client = new Redis({ host: '127.0.0.1', port });
        try {
          await client.config('SET', 'requirepass', CUT_PASSWORD);
          await client.call('CLIENT', 'KILL', 'TYPE', 'replica');
        } finally {
          client.disconnect();
        }
      },
      async reconnectReplicas(port) {
        const client = new Redis({ host: '127.0.0.1', port, password: CUT_PASSWORD });
        try {
          await client.config('SET', 'requirepass', '');
        } finally {
          client.disconnect();
        }
      },
      waitForReplica: (port, timeoutMs) => waitForInSyncReplica(port, timeoutMs),
      asTestRedis: () => ({
        topology: 'single',
        env,
        createClient: () =>
          new Redis({
            sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
            name: NAME,
            failoverDetector: true,
          }),
        stop: async () => undefined,
      }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function sentinelClient(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: false });
}
