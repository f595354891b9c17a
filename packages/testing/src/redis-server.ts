import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.js';
import { killRedisProcess, RedisStartError, spawnRedisServer, type RedisProcess } from './redis-process.js';

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
  /** Starts again on the same port and dir with the same options (so the AOF is reloaded); kills first if still running. Resolves when loading has finished. */
  restart(): Promise<void>;
  /** Kills the process and removes the directory. */
  stop(): Promise<void>;
}

const PORT_ATTEMPTS = 3;

/** Spawns a private redis-server (no RDB snapshots; AOF only when asked) and waits until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aw-redis-'));
  try {
    let lastError: unknown;
    // getFreePort only says the port was free a moment ago; another process may take it first.
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await getFreePort();
      const args = redisArgs(port, dir, options);
      try {
        const proc = await spawnRedisServer(port, args);
        return createHandle(proc, args, dir);
      } catch (err) {
        lastError = err;
        if (!(err instanceof RedisStartError && err.portInUse)) throw err;
      }
    }
    throw lastError;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
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
    async restart() {
      await killRedisProcess(current, 'SIGKILL');
      current = await spawnRedisServer(port, args);
    },
    async stop() {
      await killRedisProcess(current, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
