import {
  createKeyLayout,
  createRedisClient,
  type KeyLayout,
  type RedisClient,
} from '@agentwire/redis';
import type { ServiceProcess } from '@agentwire/testing';
import { guardProcess } from './interrupt-guard.js';
import { startLocalStack, type LocalStack } from './local-stack.js';

/** What the run probes (snapshot cost, run memory) work with. */
export interface RunProbeStack {
  local: LocalStack;
  edge: ServiceProcess;
  /** The services' environment (secrets included: the probe posts and signs with them). */
  env: Record<string, string>;
  /** A client of the stack's Redis, and the stack's key layout. */
  client: RedisClient;
  keys: KeyLayout;
}

/**
 * Runs `probe` against a private stack (1 edge, 1 buffer, a private Redis
 * without persistence, production defaults plus `env`), and stops it all at
 * the end, on Ctrl-C, or after `capMs`.
 */
export async function withRunProbeStack<T>(
  name: string,
  capMs: number,
  env: Record<string, string>,
  probe: (stack: RunProbeStack) => Promise<T>,
): Promise<T> {
  let local: LocalStack | undefined;
  let client: RedisClient | undefined;
  const stop = async (): Promise<void> => {
    client?.disconnect();
    await local?.stack.stop();
  };
  const unguard = guardProcess(stop, capMs);
  try {
    local = await startLocalStack({ edges: 1, buffers: 1, env });
    const edge = local.stack.edges[0];
    if (!edge) throw new Error('the stack has no edge');
    const stackEnv = local.stack.env;
    client = createRedisClient({ url: stackEnv.REDIS_URL ?? '' }, { name });
    const keys = createKeyLayout(stackEnv.KEY_PREFIX ?? '', Number(stackEnv.SHARDS));
    return await probe({ local, edge, env: stackEnv, client, keys });
  } finally {
    unguard();
    await stop();
  }
}
