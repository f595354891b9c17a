import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

// Every process and temp directory the fixtures create, so that a test run
// that fails (or forgets its afterAll) leaves no redis-server or service
// process, and no data directory, behind.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hookInstalled = false;

function cleanUpOnExit(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone: nothing to do.
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a busy directory must not turn exit into a crash.
    }
  }
  liveDirs.clear();
}

function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  // 'exit' handlers must be synchronous; kill() and rmSync are.
  process.on('exit', cleanUpOnExit);
}

/** Registers a spawned child; it is SIGKILLed when this process exits, unless it exited first. */
export function trackChild(child: ChildProcess): void {
  installHook();
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

/** Registers a temp directory to remove when this process exits; `untrackDir` once removed normally. */
export function trackDir(dir: string): void {
  installHook();
  liveDirs.add(dir);
}

export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}
