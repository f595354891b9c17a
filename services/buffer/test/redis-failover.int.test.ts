import {
  type RedisClusterServer,
  type RedisSentinelTopology,
  type Stack,
  startRedisCluster,
  startRedisSentinel,
  startStack,
  waitUntil,
} from '@agentwire/testing';
import { Cluster } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosLoad, runDeliveryUnderFault } from './support/delivery-run.js';

const LEASE_TTL_MS = 2000;
const FAILOVER_TIMEOUT_MS = 20_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface OutageSeen {
  readyz: number;
  ingest: number;
  retryAfter: string | null;
}

/** Polls an edge until both /readyz and ingest answer 503 (the services noticed the outage). */
async function observeOutage(stack: Stack): Promise<OutageSeen> {
  let seen: OutageSeen = { readyz: 0, ingest: 0, retryAfter: null };
  await waitUntil(
    async () => {
      const readyz = (await fetch(`${stack.edges[0]?.url}/readyz`)).status;
      const refused = await stack.ingest({
        id: `probe-${Date.now()}`,
        userId: 'probe',
        name: 'agent_started',
      });
      seen = { readyz, ingest: refused.status, retryAfter: refused.headers.get('retry-after') };
      return readyz === 503 && refused.status === 503;
    },
    5000,
    20,
    'readyz and ingest answering 503 during the failover',
  );
  return seen;
}

function expectOutageAnswered(seen: OutageSeen | undefined): void {
  expect(seen?.readyz).toBe(503);
  expect(seen?.ingest).toBe(503);
  expect(Number(seen?.retryAfter)).toBeGreaterThan(0);
}

async function allReady(stack: Stack): Promise<void> {
  for (const service of [...stack.edges, ...stack.buffers]) {
    await waitUntil(
      async () => (await fetch(`${service.url}/readyz`)).status === 200,
      10_000,
      50,
      `${service.name} ready again`,
    );
  }
}

// Each test builds its own topology (Sentinel or a cluster with replicas):
// nothing to repeat in the AW_TEST_TOPOLOGY=cluster run (vitest.config.ts).
describe('Redis primary failover (2 edges, 2 buffers, 20 users, 500 critical events/s for 10 s)', () => {
  let stack: Stack | undefined;
  let sentinel: RedisSentinelTopology | undefined;
  let cluster: RedisClusterServer | undefined;

  afterEach(async () => {
    await stack?.stop();
    await sentinel?.stop();
    await cluster?.stop();
    stack = undefined;
    sentinel = undefined;
    cluster = undefined;
  });

  async function sentinelStack(minReplicas: number): Promise<Stack> {
    sentinel = await startRedisSentinel({ replicas: 2, sentinels: 3 });
    stack = await startStack({
      edges: 2,
      buffers: 2,
      env: { SHARDS: '8', LEASE_TTL_MS: String(LEASE_TTL_MS), MIN_REPLICAS: String(minReplicas) },
      redis: sentinel.asTestRedis(),
    });
    await sleep(LEASE_TTL_MS);
    return stack;
  }

  /**
   * The primary keeps writing with its replicas cut off, is paused (SIGSTOP)
   * past the failover, then resumed: Sentinel turns it into a replica of the
   * new primary and its unreplicated writes are discarded.
   */
  async function pausedPrimaryFault(
    topology: RedisSentinelTopology,
    s: Stack,
  ): Promise<OutageSeen> {
    const old = await topology.primaryPort();
    await topology.cutReplicas(old);
    await sleep(1000);
    await topology.signal(old, 'SIGSTOP');
    const seen = await observeOutage(s);
    await topology.waitForNewPrimary(old, FAILOVER_TIMEOUT_MS);
    await sleep(500);
    await topology.signal(old, 'SIGCONT');
    await topology.reconnectReplicas(old);
    await topology.waitForReplica(old, FAILOVER_TIMEOUT_MS);
    return seen;
  }

  it('Sentinel, primary SIGKILLed, MIN_REPLICAS=1: every accepted event delivered once, in order', async () => {
    const s = await sentinelStack(1);
    const topology = sentinel as RedisSentinelTopology;
    let seen: OutageSeen | undefined;
    const result = await runDeliveryUnderFault(s, {
      ...chaosLoad,
      fault: async () => {
        const old = await topology.primaryPort();
        await topology.signal(old, 'SIGKILL');
        seen = await observeOutage(s);
        await topology.waitForNewPrimary(old, FAILOVER_TIMEOUT_MS);
      },
    });
    console.info(
      `Sentinel primary SIGKILL: longest live-delivery pause ${result.longestPauseMs} ms`,
    );
    expect(result.accepted).toBe(5000);
    expect(result.epochChanges).toBe(0);
    expectOutageAnswered(seen);
    await allReady(s);
  }, 120_000);

  it('Sentinel, primary paused past the failover, MIN_REPLICAS=1: nothing accepted is lost', async () => {
    const s = await sentinelStack(1);
    let seen: OutageSeen | undefined;
    const result = await runDeliveryUnderFault(s, {
      ...chaosLoad,
      fault: async () => {
        seen = await pausedPrimaryFault(sentinel as RedisSentinelTopology, s);
      },
    });
    console.info(
      `Sentinel primary SIGSTOP (MIN_REPLICAS=1): longest live-delivery pause ${result.longestPauseMs} ms`,
    );
    expect(result.accepted).toBe(5000);
    // Nothing a client saw was taken back, so no history had to start a new epoch.
    expect(result.epochChanges).toBe(0);
    expectOutageAnswered(seen);
    await allReady(s);
  }, 120_000);

  it('Sentinel, primary paused past the failover, MIN_REPLICAS=0: lost writes change the epoch, no new event is dropped', async () => {
    const s = await sentinelStack(0);
    const result = await runDeliveryUnderFault(s, {
      ...chaosLoad,
      lossAllowed: true,
      fault: async () => {
        await pausedPrimaryFault(sentinel as RedisSentinelTopology, s);
      },
    });
    console.info(
      `Sentinel primary SIGSTOP (MIN_REPLICAS=0): ${result.lostAccepted} accepted events lost, ` +
        `${result.usersResynced} users resynced under a new epoch`,
    );
    // The primary took writes its replicas never got, and clients saw them:
    // those users must have been told to resync.
    expect(result.usersResynced).toBeGreaterThan(0);
  }, 120_000);

  it('Redis Cluster 3+3, a master SIGKILLed, MIN_REPLICAS=1: its replica takes over, nothing lost', async () => {
    cluster = await startRedisCluster({ replicasPerMaster: 1 });
    const nodes = cluster;
    stack = await startStack({
      edges: 2,
      buffers: 2,
      env: { SHARDS: '8', LEASE_TTL_MS: String(LEASE_TTL_MS), MIN_REPLICAS: '1' },
      redis: {
        topology: 'cluster',
        env: { REDIS_CLUSTER_NODES: nodes.nodes },
        createClient: () => new Cluster(nodes.ports.map((port) => ({ host: '127.0.0.1', port }))),
        stop: async () => undefined,
      },
    });
    const s = stack;
    await sleep(LEASE_TTL_MS);
    const result = await runDeliveryUnderFault(s, {
      ...chaosLoad,
      fault: async () => {
        const [victim] = await nodes.masterPorts();
        await nodes.signal(victim as number, 'SIGKILL');
        await nodes.waitForFailover(victim as number, FAILOVER_TIMEOUT_MS);
        // Back as a replica of the promoted node, so its slots have MIN_REPLICAS again.
        await nodes.restart(victim as number);
      },
    });
    console.info(`Cluster master SIGKILL: longest live-delivery pause ${result.longestPauseMs} ms`);
    expect(result.accepted).toBe(5000);
    expect(result.epochChanges).toBe(0);
    await allReady(s);
  }, 120_000);
});
