import type { Cluster, Redis } from 'ioredis';

/** The nodes holding data: every master of a cluster, or the one server. */
function dataNodes(client: Redis | Cluster): Redis[] {
  return 'nodes' in client && typeof client.nodes === 'function'
    ? (client as Cluster).nodes('master')
    : [client as Redis];
}

/**
 * Keys matching `pattern` over every master (SCAN, so it also expires the
 * keys whose TTL passed that it meets).
 */
export async function countKeys(client: Redis | Cluster, pattern: string): Promise<number> {
  let total = 0;
  for (const node of dataNodes(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      total += keys.length;
    } while (cursor !== '0');
  }
  return total;
}

/** INFO memory `used_memory`, summed over every master. */
export async function usedMemory(client: Redis | Cluster): Promise<number> {
  let total = 0;
  for (const node of dataNodes(client)) {
    total += Number(/used_memory:(\d+)/.exec(await node.info('memory'))?.[1]);
  }
  return total;
}

/**
 * Script calls that ran without error (EVAL and EVALSHA in INFO
 * commandstats), summed over every master: what a test counts to check how
 * many round trips of scripts a step cost.
 */
export async function scriptRuns(client: Redis | Cluster): Promise<number> {
  let total = 0;
  for (const node of dataNodes(client)) {
    const stats = await node.info('commandstats');
    for (const command of ['eval', 'evalsha']) {
      const line = new RegExp(`cmdstat_${command}:calls=(\\d+).*failed_calls=(\\d+)`).exec(stats);
      if (line) total += Number(line[1]) - Number(line[2]);
    }
  }
  return total;
}
