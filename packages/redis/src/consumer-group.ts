import { Scripts } from './lua-script.js';
import type { RedisClient } from './redis-client.js';

/**
 * Creates `group` on `stream` (and the stream) unless it exists; safe on a
 * cluster (see ensure-group-1.lua). Resolves true when it was created.
 */
export async function ensureConsumerGroup(
  client: RedisClient,
  stream: string,
  group: string,
): Promise<boolean> {
  return (await Scripts.ensureGroup.run(client, [stream], [group])) === 1;
}
