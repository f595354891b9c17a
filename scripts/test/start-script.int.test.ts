import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, repoRoot, waitUntil } from '@agentwire/testing';
import { afterAll, describe, expect, it } from 'vitest';

// `npm start` runs `bash scripts/start.sh`. It starts its own Redis: one topology run is enough.
/** The script's own bound: services_wait_s (max(DRAIN_GRACE_MS, STOP_GRACE_MS) / 1000 + 2) plus redis_wait_s. */
const STOP_BOUND_MS = (5 + 2 + 10) * 1000;

let script: ChildProcess | undefined;
let started: number[] = [];
let dataDir: string | undefined;

afterAll(async () => {
  // Only when the test failed half-way: nothing may outlive it.
  for (const pid of [...started, ...(script?.pid ? [script.pid] : [])]) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface ProcStat {
  pid: number;
  ppid: number;
  state: string;
  name: string;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (name) state ppid ...": the name may hold spaces and parentheses.
    const close = text.lastIndexOf(')');
    const [state, ppid] = text.slice(close + 2).split(' ');
    return {
      pid,
      ppid: Number(ppid),
      state: state ?? '',
      name: text.slice(text.indexOf('(') + 1, close),
    };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root` (children, their children...). */
function descendants(root: number): ProcStat[] {
  const all = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => procStat(Number(entry)))
    .filter((stat): stat is ProcStat => stat !== undefined);
  const found: ProcStat[] = [];
  const parents = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const stat of all) {
      if (parents.has(stat.ppid) && !parents.has(stat.pid)) {
        parents.add(stat.pid);
        found.push(stat);
        grew = true;
      }
    }
  }
  return found;
}

/** Alive and not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

describe('npm start (scripts/start.sh)', () => {
  it.each([
    { signal: 'SIGHUP', code: 129, what: 'the terminal hangs up' },
    { signal: 'SIGINT', code: 130, what: 'Ctrl-C' },
    { signal: 'SIGTERM', code: 143, what: 'a supervisor stops it' },
  ] as const)(
    'stops everything it started, services before Redis, on $signal ($what)',
    async ({ signal, code }) => {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      dataDir = await mkdtemp(join(tmpdir(), 'aw-start-'));
      const [redisPort, edgeA, edgeB, bufferPort] = await Promise.all(
        Array.from({ length: 4 }, () => getFreePort()),
      );
      const ports = [redisPort, edgeA, edgeB, bufferPort] as number[];
      const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, ...inherited } = process.env;
      let output = '';
      // Its own process group, as a terminal's foreground job: the hang-up goes to the whole group.
      script = spawn('bash', ['scripts/start.sh'], {
        cwd: repoRoot(),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...inherited,
          LOG_LEVEL: 'info',
          AGENTWIRE_DATA_DIR: dataDir,
          AGENTWIRE_REDIS_PORT: String(redisPort),
          AGENTWIRE_EDGE_PORTS: `${edgeA},${edgeB}`,
          AGENTWIRE_BUFFER_PORT: String(bufferPort),
        },
      });
      const bash = script;
      bash.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      bash.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        bash.once('exit', (code, signal) => resolve({ code, signal })),
      );
      await waitUntil(() => output.includes('agentwire is running.'), 60_000, 100, 'start-up');
      const logs = join(dataDir, 'logs');
      const demoLog = join(logs, 'demo-agent.log');
      await waitUntil(
        () => existsSync(demoLog) && readFileSync(demoLog, 'utf8').includes('streaming demo runs'),
        10_000,
        50,
        'the demo agent is running',
      );

      const children = descendants(bash.pid as number).filter((p) => p.name !== 'sleep');
      started = children.map((p) => p.pid);
      expect(children.map((p) => p.name).sort(), output).toEqual([
        'node',
        'node',
        'node',
        'node',
        'redis-server',
      ]);
      for (const port of ports) expect(await portIsFree(port), `port ${port} in use`).toBe(false);

      const hungUpAt = Date.now();
      // To the whole group, as the terminal sends it (SIGTERM reaches the group too: the
      // children, in sessions of their own, still hear it only from the script).
      process.kill(-(bash.pid as number), signal);
      const exit = await Promise.race([
        exited,
        new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_BOUND_MS)),
      ]);
      const stopMs = Date.now() - hungUpAt;
      expect(exit, output).toEqual({ code, signal: null });
      expect(stopMs).toBeLessThan(STOP_BOUND_MS);
      for (const pid of started) expect(isAlive(pid), `pid ${pid} left behind`).toBe(false);
      for (const port of ports)
        expect(await portIsFree(port), `port ${port} still taken`).toBe(true);
      expect(output).not.toContain('SIGKILL');

      // Redis stopped last: the buffer and the edges still reached it to finish cleanly.
      for (const log of ['buffer-1.log', 'edge-0.log', 'edge-1.log', 'demo-agent.log']) {
        const path = join(logs, log);
        expect(existsSync(path), path).toBe(true);
        expect(readFileSync(path, 'utf8'), log).toContain('"msg":"stopped"');
      }
      console.log(`npm start stopped everything ${stopMs} ms after ${signal}`);
    },
    60_000,
  );
});
