import { spawn } from 'node:child_process';
import { trackChild } from './child-registry.js';
import { getFreePort } from './free-port.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';
import { OutputRing } from './output-ring.js';
import { redisProbe } from './redis-probe.js';
import {
  killRedisProcess,
  missingBinaryError,
  spawnRedisOnFreePort,
  spawnRedisServer,
  signalRedisNode,
  waitForInSyncReplica,
  type RedisProcess,
} from './redis-process.js';
import { waitUntil } from './wait-until.js';

/** A private 3-master Redis Cluster on 127.0.0.1, with replicas when asked. */
export interface RedisClusterServer {
  /** Every node, masters and replicas. */
  readonly ports: number[];
  /** `127.0.0.1:A,127.0.0.1:B,...`, the REDIS_CLUSTER_NODES format. */
  readonly nodes: string;
  /** Ports of the nodes that are masters now (they change with a failover). */
  masterPorts(): Promise<number[]>;
  /** Sends a signal to the node on `port`; SIGKILL waits for the exit. */
  signal(port: number, signal: NodeJS.Signals): Promise<void>;
  /**
   * Starts a killed node again on its port and config file (it rejoins as a
   * replica of whoever took its slots) and waits until it is in sync.
   */
  restart(port: number): Promise<void>;
  /** Waits until the cluster serves every slot again without the node on `deadPort`. */
  waitForFailover(deadPort: number, timeoutMs: number): Promise<void>;
  /** Kills all nodes and removes their directory. */
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Replicas per master (`--cluster-replicas`). @default 0 */
  replicasPerMaster?: number;
}

const MASTERS = 3;
const CREATE_TIMEOUT_MS = 30_000;
const STATE_OK_TIMEOUT_MS = 20_000;

/** Starts three cluster-enabled redis-servers, joins them with `redis-cli --cluster create`, waits for cluster_state:ok. */
export async function startRedisCluster(
  options: StartClusterOptions = {},
): Promise<RedisClusterServer> {
  const dir = await makeTempDir('aw-redis-cluster-');
  const procs: RedisProcess[] = [];
  const argsOf = new Map<number, string[]>();
  const replicas = options.replicasPerMaster ?? 0;
  const stop = async (): Promise<void> => {
    for (const proc of procs) if (!proc.hasExited()) proc.child.kill('SIGCONT');
    await Promise.all(procs.map((proc) => killRedisProcess(proc, 'SIGKILL')));
    await removeTempDir(dir);
  };
  try {
    for (let i = 0; i < MASTERS * (1 + replicas); i++) {
      const { proc, args } = await spawnRedisOnFreePort(async (port) => {
        // An explicit bus port: the default (port + 10000) may be taken or above 65535.
        const busPort = await getFreePort();
        return [
          '--bind', '127.0.0.1',
          '--port', String(port),
          '--save', '',
          '--dir', dir,
          '--cluster-enabled', 'yes',
          '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', '2000',
          '--cluster-port', String(busPort),
        ]; // prettier-ignore
      });
      procs.push(proc);
      argsOf.set(proc.port, args);
    }
    const ports = procs.map((proc) => proc.port);
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await runClusterCreate(addresses, replicas);
    const allOk = async (alive: number[]): Promise<boolean> => {
      const infos = await Promise.all(alive.map((port) => redisProbe(port, ['CLUSTER', 'INFO'])));
      return infos.every((info) => /^cluster_state:ok\r?$/m.test(info));
    };
    await waitUntil(() => allOk(ports), STATE_OK_TIMEOUT_MS, 50, 'cluster_state:ok on all nodes');
    if (replicas > 0) {
      // Every replica attached and in sync before anyone relies on a failover.
      await waitUntil(
        async () => {
          const infos = await Promise.all(
            ports.map((port) => redisProbe(port, ['INFO', 'replication'])),
          );
          return infos.every(
            (info) => /^role:master\r?$/m.test(info) || /^master_link_status:up\r?$/m.test(info),
          );
        },
        STATE_OK_TIMEOUT_MS,
        50,
        'replicas in sync',
      );
    }
    const alivePorts = (): number[] => procs.filter((p) => !p.hasExited()).map((p) => p.port);
    const masterPorts = async (): Promise<number[]> => {
      const masters: number[] = [];
      for (const port of alivePorts()) {
        const info = await redisProbe(port, ['INFO', 'replication']);
        if (/^role:master\r?$/m.test(info)) masters.push(port);
      }
      return masters;
    };
    return {
      ports,
      nodes: addresses.join(','),
      masterPorts,
      signal: (port, signal) => signalRedisNode(procs, port, signal),
      async restart(port) {
        const index = procs.findIndex((candidate) => candidate.port === port);
        const args = argsOf.get(port);
        if (index < 0 || args === undefined) throw new Error(`no cluster node on port ${port}`);
        await killRedisProcess(procs[index] as RedisProcess, 'SIGKILL');
        procs[index] = await spawnRedisServer(port, args);
        await waitForInSyncReplica(port, STATE_OK_TIMEOUT_MS);
      },
      async waitForFailover(deadPort, timeoutMs) {
        await waitUntil(
          async () =>
            (await masterPorts()).length === MASTERS &&
            (await allOk(alivePorts().filter((port) => port !== deadPort))),
          timeoutMs,
          50,
          `a replica promoted in place of ${deadPort}`,
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function runClusterCreate(addresses: string[], replicas: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ring = new OutputRing();
    const child = spawn(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    trackChild(child);
    child.stdout?.on('data', (chunk: Buffer) => ring.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => ring.write(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `redis-cli --cluster create timed out after ${CREATE_TIMEOUT_MS} ms:\n${ring.text()}`,
        ),
      );
    }, CREATE_TIMEOUT_MS);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? missingBinaryError('redis-cli') : err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli --cluster create exited with ${code}:\n${ring.text()}`));
    });
  });
}
