import type { ChildProcess } from 'node:child_process';

// Every process the fixtures spawn, so that a test run that fails (or forgets
// its afterAll) never leaves redis-server or service processes behind.
const live = new Set<ChildProcess>();
let hookInstalled = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone: nothing to do.
    }
  }
  live.clear();
}

/** Registers a spawned child; it is SIGKILLed when this process exits, unless it exited first. */
export function trackChild(child: ChildProcess): void {
  if (!hookInstalled) {
    hookInstalled = true;
    // 'exit' handlers must be synchronous; kill() is.
    process.on('exit', killAll);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}
