import {
  type RedisServer,
  type Stack,
  startRedis,
  startStack,
  waitUntil,
} from '@agentwire/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { chaosLoad, runDeliveryUnderFault } from './support/delivery-run.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Needs its own single Redis with AOF: it is killed and restarted from its log.
describe('Redis SIGKILL and restart from AOF (appendfsync always)', () => {
  let redis: RedisServer | undefined;
  let stack: Stack | undefined;

  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('loses nothing accepted; services recover without being restarted', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const server = redis;
    stack = await startStack({
      edges: 2,
      buffers: 2,
      env: { SHARDS: '8', LEASE_TTL_MS: '2000', LOG_LEVEL: 'warn' },
      redis: {
        topology: 'single',
        env: { REDIS_URL: server.url },
        createClient: () => new Redis(server.url),
        stop: async () => undefined,
      },
    });
    const s = stack;
    let sawNotReady = false;
    let ingestWhileDown: { status: number; retryAfter: string | null } | undefined;
    const result = await runDeliveryUnderFault(s, {
      ...chaosLoad,
      fault: async () => {
        await server.kill('SIGKILL');
        const ready = await fetch(`${s.edges[0]?.url}/readyz`).then((r) => r.status);
        sawNotReady = ready === 503;
        const refused = await s.ingest({
          id: 'while-down',
          userId: 'chaos-0',
          name: 'agent_started',
        });
        ingestWhileDown = {
          status: refused.status,
          retryAfter: refused.headers.get('retry-after'),
        };
        await sleep(1000);
        await server.restart();
      },
    });
    expect(result.accepted).toBe(5000);
    expect(sawNotReady).toBe(true);
    expect(ingestWhileDown?.status).toBe(503);
    expect(Number(ingestWhileDown?.retryAfter)).toBeGreaterThan(0);
    expect(result.retries).toBeGreaterThan(0);
    for (const service of [...s.edges, ...s.buffers]) {
      await waitUntil(
        async () => (await fetch(`${service.url}/readyz`).then((r) => r.status)) === 200,
        10_000,
      );
    }
  }, 120_000);
});
