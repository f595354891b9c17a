import { Scripts, type ScriptReply } from './lua-script.js';
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

/** XINFO GROUPS of `stream` (one flat field/value list per group); safe on a cluster. */
export async function readConsumerGroups(
  client: RedisClient,
  stream: string,
): Promise<Array<Array<string | number>>> {
  return (await Scripts.streamGroups.run(client, [stream], [])) as ScriptReply[] as Array<
    Array<string | number>
  >;
}
