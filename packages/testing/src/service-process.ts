import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild } from './child-registry.js';
import { OutputRing } from './output-ring.js';
import { repoRoot } from './repo-root.js';
import { sleep } from './wait-until.js';

export type ServiceName = 'edge' | 'buffer';

export interface ServiceExit {
  code: number | null;
  signal: string | null;
}

export interface StartServiceOptions {
  /** How long to wait for GET /readyz to answer 200. @default 20000 */
  readyTimeoutMs?: number;
  /** Wait for readiness before resolving; false resolves right after spawning. @default true */
  waitReady?: boolean;
}

/** A service process (`node services/<name>/dist/main.js`) started by a test. */
export interface ServiceProcess {
  readonly name: ServiceName;
  readonly pid: number;
  /** The HTTP port: PORT for edge, METRICS_PORT for buffer. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/v1/ws`; reading it on a buffer throws (a buffer has no WebSocket endpoint). */
  readonly wsUrl: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ServiceExit>;
  isRunning(): boolean;
  /** Sends a signal without waiting (SIGTERM to test draining, SIGSTOP to freeze...). */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<ServiceExit>;
  /** SIGTERM, waits up to `timeoutMs` (default 10000), then SIGKILL. */
  stop(timeoutMs?: number): Promise<ServiceExit>;
  /** Polls GET /readyz every 50 ms until 200; rejects on exit or timeout (with the output tail). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The last 200 lines of stdout and stderr, interleaved as they arrived. */
  output(): string;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 50;
// Default HTTP ports of the services (protocol.md section 7, common brief).
const DEFAULT_PORT: Record<ServiceName, string> = { edge: '8080', buffer: '9090' };

/** Path of a service's built entry point. */
export function serviceMainPath(name: ServiceName): string {
  return join(repoRoot(), 'services', name, 'dist', 'main.js');
}

/**
 * Spawns `node services/<name>/dist/main.js` with process.env plus `env`
 * (LOG_LEVEL defaults to warn) and, unless told otherwise, waits until it is ready.
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  options: StartServiceOptions = {},
): Promise<ServiceProcess> {
  const main = serviceMainPath(name);
  if (!existsSync(main)) {
    throw new Error(
      `${main} does not exist: build it first (npx tsc -p services/${name}/tsconfig.build.json)`,
    );
  }
  return startNodeScript(name, main, env, options);
}

/** startService with an explicit script path (kept separate so the process handling can be exercised alone). */
export async function startNodeScript(
  name: ServiceName,
  main: string,
  env: Record<string, string>,
  options: StartServiceOptions = {},
): Promise<ServiceProcess> {
  const portText = (name === 'edge' ? env.PORT : env.METRICS_PORT) ?? DEFAULT_PORT[name];
  const port = Number(portText);

  const child = spawn(process.execPath, [main], {
    cwd: repoRoot(),
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const ring = new OutputRing(200);
  child.stdout?.on('data', (chunk: Buffer) => ring.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => ring.write(chunk));

  let running = true;
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  // stdout/stderr may still hold the last lines when 'exit' fires; 'close' comes after them.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  if (child.pid === undefined) {
    throw new Error(`failed to spawn ${name}: ${process.execPath} ${main}`);
  }
  const pid = child.pid;
  const url = `http://127.0.0.1:${port}`;

  const waitReady = async (timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!running) {
        await Promise.race([closed, sleep(500)]);
        const { code, signal } = await exited;
        throw new Error(
          `${name} (pid ${pid}) exited (code ${code}, signal ${signal}) before it was ready:\n${ring.text()}`,
        );
      }
      if (await answersReady(url)) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `${name} (pid ${pid}) not ready at ${url}/readyz within ${timeoutMs} ms:\n${ring.text()}`,
        );
      }
      await sleep(READY_POLL_MS);
    }
  };

  const kill = async (): Promise<ServiceExit> => {
    if (running) child.kill('SIGKILL');
    return exited;
  };

  const handle: ServiceProcess = {
    name,
    pid,
    port,
    url,
    get wsUrl(): string {
      if (name !== 'edge') throw new Error(`${name} has no WebSocket endpoint`);
      return `ws://127.0.0.1:${port}/v1/ws`;
    },
    exited,
    isRunning: () => running,
    signal(sig) {
      if (running) child.kill(sig);
    },
    kill,
    async stop(timeoutMs = 10_000) {
      if (!running) return exited;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      return first === 'timeout' ? kill() : first;
    },
    waitReady,
    output: () => ring.text(),
  };

  if (options.waitReady === false) return handle;
  try {
    await waitReady(options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (err) {
    // The caller never gets the handle, so nobody else could stop this process.
    await kill();
    throw err;
  }
  return handle;
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  // A REDIS_URL exported in the developer's shell must not point a service at
  // the wrong Redis when the test configures the other topology.
  if ('REDIS_URL' in env || 'REDIS_CLUSTER_NODES' in env || 'REDIS_SENTINELS' in env) {
    delete inherited.REDIS_URL;
    delete inherited.REDIS_CLUSTER_NODES;
    delete inherited.REDIS_SENTINELS;
  }
  return { ...inherited, LOG_LEVEL: 'warn', ...env };
}

async function answersReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
