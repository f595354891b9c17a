import type { RedisClient } from '@agentwire/redis';
import { startTestRedis, type TestRedis } from '@agentwire/testing';
import { afterAll, beforeAll } from 'vitest';

/**
 * One private Redis (of the run's topology) and one client for a whole test
 * file, started before its tests and stopped after them. Tests keep apart by
 * key prefix. Call at the top level of the file; use the result inside tests.
 */
export function useSharedTestRedis(): { readonly client: RedisClient } {
  let redis: TestRedis | undefined;
  let client: RedisClient | undefined;
  beforeAll(async () => {
    redis = await startTestRedis();
    client = redis.createClient();
  });
  afterAll(async () => {
    await client?.quit();
    await redis?.stop();
  });
  return {
    get client(): RedisClient {
      if (!client) throw new Error('the shared test Redis is only there inside tests');
      return client;
    },
  };
}
