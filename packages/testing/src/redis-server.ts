import { makeTempDir, removeTempDir } from './temp-dir.js';
import {
  killRedisProcess,
  spawnRedisOnFreePort,
  spawnRedisServer,
  type RedisProcess,
} from './redis-process.js';

export interface StartRedisOptions {
  /** Enable the append-only file (for durability tests). @default false */
  appendonly?: boolean;
  /** AOF fsync policy, used with `appendonly`. @default 'always' when appendonly is set */
  appendfsync?: 'always' | 'everysec' | 'no';
}

/** A private redis-server on 127.0.0.1 with its own data directory. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The temp directory holding the AOF; removed by stop(). */
  readonly dir: string;
  /** Sends `signal` (default SIGKILL) and waits until the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Sends a signal without waiting: SIGSTOP freezes Redis (connections stay open, nothing answers), SIGCONT resumes it. */
  signal(signal: NodeJS.Signals): void;
  /** Starts again on the same port and dir with the same options (so the AOF is reloaded); kills first if still running. Resolves when loading has finished. */
  restart(): Promise<void>;
  /** Kills the process and removes the directory. */
  stop(): Promise<void>;
}

/** Spawns a private redis-server (no RDB snapshots; AOF only when asked) and waits until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await makeTempDir('aw-redis-');
  try {
    const { proc, args } = await spawnRedisOnFreePort((port) => redisArgs(port, dir, options));
    return createHandle(proc, args, dir);
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

function redisArgs(port: number, dir: string, options: StartRedisOptions): string[] {
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--dir', dir];
  if (options.appendonly) {
    args.push('--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'always');
  }
  return args;
}

function createHandle(first: RedisProcess, args: string[], dir: string): RedisServer {
  let current = first;
  const { port } = first;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => killRedisProcess(current, signal),
    signal(signal) {
      if (!current.hasExited()) current.child.kill(signal);
    },
    async restart() {
      await killRedisProcess(current, 'SIGKILL');
      current = await spawnRedisServer(port, args);
    },
    async stop() {
      await killRedisProcess(current, 'SIGKILL');
      await removeTempDir(dir);
    },
  };
}
