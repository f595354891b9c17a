import type { RedisServer } from './redis-server.js';
import type { ServiceProcess } from './service-process.js';

/**
 * Ends a test that paused (SIGSTOP) or killed its private Redis under some
 * processes: resumes Redis, SIGKILLs whichever process is still running,
 * then stops Redis and removes its directory. Safe on a half-started test.
 */
export async function cleanUpRedisFault(
  redis: RedisServer | undefined,
  processes: ReadonlyArray<ServiceProcess | undefined>,
): Promise<void> {
  redis?.signal('SIGCONT');
  await Promise.all(processes.map((proc) => proc?.kill()));
  await redis?.stop();
}
