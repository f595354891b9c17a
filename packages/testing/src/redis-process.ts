import { spawn, type ChildProcess } from 'node:child_process';
import { trackChild } from './child-registry.js';
import { getFreePort } from './free-port.js';
import { OutputRing } from './output-ring.js';
import { redisProbe } from './redis-probe.js';
import { sleep, waitUntil } from './wait-until.js';

const READY_TIMEOUT_MS = 20_000;
const POLL_MS = 25;

/** One running redis-server process started by the fixtures. */
export interface RedisProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<void>;
  hasExited(): boolean;
  output(): string;
}

/** Thrown when redis-server exits before it answers; `portInUse` says whether a retry on another port may help. */
export class RedisStartError extends Error {
  override readonly name = 'RedisStartError';
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/** The error for a missing Redis binary: the fixtures never skip, they say how to fix the machine. */
export function missingBinaryError(binary: string): Error {
  const debianPackage = binary === 'redis-sentinel' ? 'redis-sentinel' : 'redis-server';
  return new Error(
    `${binary} was not found on PATH. Integration tests need a local Redis: apt-get install -y ${debianPackage}`,
  );
}

/** redis-server, or redis-sentinel (the same server in Sentinel mode: no data set to load). */
export type RedisBinary = 'redis-server' | 'redis-sentinel';

/**
 * Spawns `redis-server <args>` listening on `port` and resolves once it answers
 * PING and has finished loading its data set (AOF replay after a restart).
 */
export async function spawnRedisServer(
  port: number,
  args: string[],
  binary: RedisBinary = 'redis-server',
): Promise<RedisProcess> {
  const ring = new OutputRing();
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  child.stdout?.on('data', (chunk: Buffer) => ring.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => ring.write(chunk));

  let exited = false;
  let spawnError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: no binary, and no 'exit' event will follow.
      spawnError = err.code === 'ENOENT' ? missingBinaryError(binary) : err;
      exited = true;
      resolve();
    });
  });

  const proc: RedisProcess = {
    child,
    port,
    exited: exitedPromise,
    hasExited: () => exited,
    output: () => ring.text(),
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw spawnError;
    if (exited) {
      const output = ring.text();
      throw new RedisStartError(
        `${binary} on port ${port} exited before it was ready:\n${output}`,
        /Address already in use/i.test(output),
      );
    }
    if (await isReady(port, binary)) return proc;
    if (Date.now() >= deadline) {
      child.kill('SIGKILL');
      await exitedPromise;
      throw new Error(
        `${binary} on port ${port} not ready within ${READY_TIMEOUT_MS} ms:\n${ring.text()}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** True once PING answers PONG and INFO says no data set is being loaded. */
async function isReady(port: number, binary: RedisBinary): Promise<boolean> {
  try {
    if ((await redisProbe(port, ['PING'])) !== 'PONG') return false;
    if (binary === 'redis-sentinel') return true;
    const persistence = await redisProbe(port, ['INFO', 'persistence']);
    return /^loading:0\r?$/m.test(persistence);
  } catch {
    // Refused connection or -LOADING: not ready yet.
    return false;
  }
}

/** Sends `signal` (when still running) and waits for the process to exit. */
export async function killRedisProcess(
  proc: RedisProcess,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (!proc.hasExited()) proc.child.kill(signal);
  await proc.exited;
}

const PORT_ATTEMPTS = 3;

/**
 * spawnRedisServer on a fresh free port; `argsFor` builds the arguments for a
 * port. getFreePort only says a port was free a moment ago and another process
 * may take it first, so a start that fails with "Address already in use" is
 * retried on a new port.
 */
export async function spawnRedisOnFreePort(
  argsFor: (port: number) => string[] | Promise<string[]>,
  binary: RedisBinary = 'redis-server',
): Promise<{ proc: RedisProcess; args: string[] }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await getFreePort();
    const args = await argsFor(port);
    try {
      return { proc: await spawnRedisServer(port, args, binary), args };
    } catch (err) {
      lastError = err;
      if (!(err instanceof RedisStartError && err.portInUse)) throw err;
    }
  }
  throw lastError;
}

/** Sends `signal` to the node of `procs` on `port`; SIGKILL waits for the exit. */
export async function signalRedisNode(
  procs: readonly RedisProcess[],
  port: number,
  signal: NodeJS.Signals,
): Promise<void> {
  const proc = procs.find((candidate) => candidate.port === port);
  if (!proc) throw new Error(`no Redis node on port ${port}`);
  if (signal === 'SIGKILL') await killRedisProcess(proc, 'SIGKILL');
  else if (!proc.hasExited()) proc.child.kill(signal);
}

/** Waits until the node on `port` is a replica whose link to its primary is up. */
export async function waitForInSyncReplica(port: number, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => /^master_link_status:up\r?$/m.test(await redisProbe(port, ['INFO', 'replication'])),
    timeoutMs,
    50,
    `node ${port} an in-sync replica`,
  );
}
