import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { trackChild } from './child-registry.js';
import { OutputRing } from './output-ring.js';
import { repoRoot } from './repo-root.js';
import { sleep } from './wait-until.js';

/** The long-running processes of the repository; the demo agent has no HTTP port (start it with waitReady: false). */
export type ServiceName = 'edge' | 'buffer' | 'demo-agent';

export interface ServiceExit {
  code: number | null;
  signal: string | null;
}

export interface StartServiceOptions {
  /** How long to wait for GET /readyz to answer 200. @default 20000 */
  readyTimeoutMs?: number;
  /** Wait for readiness before resolving; false resolves right after spawning. @default true */
  waitReady?: boolean;
  /** Node.js flags before the script. @default SERVICE_NODE_FLAGS of the service */
  nodeFlags?: readonly string[];
}

/**
 * The Node.js flags each service runs with in production (deploy/k8s, the
 * Dockerfile, scripts/start.sh), so tests and benchmarks measure the same
 * process. The edge caps V8's young generation at 4 MiB per semi-space: left
 * at its 16 MiB default it grows to its maximum under a burst of connects
 * and stays there, about 2.5 KiB of resident memory per idle connection at
 * 10,000 connections that no connection holds (docs/benchmarks.md).
 */
export const SERVICE_NODE_FLAGS: Record<ServiceName, readonly string[]> = {
  edge: ['--max-semi-space-size=4'],
  buffer: [],
  'demo-agent': [],
};

/** A service process (`node services/<name>/dist/main.js`) started by a test. */
export interface ServiceProcess {
  readonly name: ServiceName;
  readonly pid: number;
  /** The HTTP port: PORT (for a buffer, its deprecated alias METRICS_PORT when PORT is unset). */
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
  /**
   * Waits up to `timeoutMs` for the process to exit on its own; past that it
   * is SIGKILLed and the promise rejects with the output tail.
   */
  exitWithin(timeoutMs: number): Promise<ServiceExit>;
  /** Polls GET /readyz every 50 ms until 200; rejects on exit or timeout (with the output tail). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The last 200 lines of stdout and stderr, interleaved as they arrived. */
  output(): string;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 50;
// Default HTTP ports of the services (protocol.md section 7, common brief).
const DEFAULT_PORT: Record<ServiceName, string> = {
  edge: '8080',
  buffer: '9090',
  'demo-agent': '0',
};

/** Path of a service's built entry point. */
export function serviceMainPath(name: ServiceName): string {
  if (name === 'demo-agent')
    return join(repoRoot(), 'packages', 'publisher', 'dist', 'demo-agent.js');
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
    throw new Error(`${main} does not exist: build it first (npx turbo run build)`);
  }
  if (name === 'demo-agent' && options.waitReady !== false) {
    throw new Error('the demo agent has no readiness endpoint: start it with waitReady: false');
  }
  return startNodeScript(name, main, env, {
    ...options,
    nodeFlags: [...(options.nodeFlags ?? SERVICE_NODE_FLAGS[name] ?? []), ...extraServiceFlags()],
  });
}

/**
 * AW_SERVICE_CPU_PROF_DIR=<dir>: every service a benchmark or test starts
 * writes a CPU profile there when it exits (Node refuses --cpu-prof in
 * NODE_OPTIONS, so it cannot reach the children that way).
 * AW_SERVICE_NODE_FLAGS="<flags>": Node flags for those services, separated
 * by spaces (V8 flags such as --max-semi-space-size are refused in
 * NODE_OPTIONS too).
 */
function extraServiceFlags(): string[] {
  const dir = process.env.AW_SERVICE_CPU_PROF_DIR;
  const extra = (process.env.AW_SERVICE_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  return [...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), ...extra];
}

/** startService with an explicit script path (kept separate so the process handling can be exercised alone). */
export async function startNodeScript(
  name: ServiceName,
  main: string,
  env: Record<string, string>,
  options: StartServiceOptions = {},
): Promise<ServiceProcess> {
  const portText =
    env.PORT ?? (name === 'buffer' ? env.METRICS_PORT : undefined) ?? DEFAULT_PORT[name];
  const port = Number(portText);

  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), main], {
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

  const exitWithin = async (timeoutMs: number): Promise<ServiceExit> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first !== 'late') {
      await Promise.race([closed, sleep(500)]);
      return first;
    }
    await kill();
    throw new Error(`${name} (pid ${pid}) did not exit within ${timeoutMs} ms:\n${ring.text()}`);
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
    exitWithin,
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
