import type { RedisClient } from './redis-client.js';

/**
 * Closes a client without ever hanging: QUIT while Redis answers (commands
 * already sent finish first), bounded by `timeoutMs`; when Redis is not
 * connected, or does not answer in time (paused, restarting), the connection
 * is dropped, which also rejects every command still waiting on it.
 * Resolves true when QUIT was answered.
 */
export async function closeRedisClient(client: RedisClient, timeoutMs: number): Promise<boolean> {
  let quitAnswered = false;
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const quit = client.quit().then(
      () => true,
      () => false,
    );
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    quitAnswered = await Promise.race([quit, late]);
    clearTimeout(timer);
  }
  if (!quitAnswered) client.disconnect();
  return quitAnswered;
}
