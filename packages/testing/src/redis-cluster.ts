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
  type RedisProcess,
} from './redis-process.js';
import { waitUntil } from './wait-until.js';

/** A private 3-master Redis Cluster on 127.0.0.1, no replicas. */
export interface RedisClusterServer {
  readonly ports: number[];
  /** `127.0.0.1:A,127.0.0.1:B,127.0.0.1:C`, the REDIS_CLUSTER_NODES format. */
  readonly nodes: string;
  /** Kills all nodes and removes their directory. */
  stop(): Promise<void>;
}

const MASTERS = 3;
const CREATE_TIMEOUT_MS = 30_000;
const STATE_OK_TIMEOUT_MS = 20_000;

/** Starts three cluster-enabled redis-servers, joins them with `redis-cli --cluster create`, waits for cluster_state:ok. */
export async function startRedisCluster(): Promise<RedisClusterServer> {
  const dir = await makeTempDir('aw-redis-cluster-');
  const procs: RedisProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((proc) => killRedisProcess(proc, 'SIGKILL')));
    await removeTempDir(dir);
  };
  try {
    for (let i = 0; i < MASTERS; i++) {
      const { proc } = await spawnRedisOnFreePort(async (port) => {
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
    }
    const ports = procs.map((proc) => proc.port);
    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    await runClusterCreate(addresses);
    await waitUntil(
      async () => {
        const infos = await Promise.all(ports.map((port) => redisProbe(port, ['CLUSTER', 'INFO'])));
        return infos.every((info) => /^cluster_state:ok\r?$/m.test(info));
      },
      STATE_OK_TIMEOUT_MS,
      50,
      'cluster_state:ok on all nodes',
    );
    return { ports, nodes: addresses.join(','), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function runClusterCreate(addresses: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ring = new OutputRing();
    const child = spawn(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
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
