import {
  type TestRedis,
  getFreePort,
  startService,
  startTestRedis,
  uniquePrefix,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('buffer start-up configuration', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startTestRedis();
  });

  afterAll(async () => {
    await redis.stop();
  });

  async function exitOf(
    env: Record<string, string>,
  ): Promise<{ code: number | null; output: string }> {
    const buffer = await startService(
      'buffer',
      { ...redis.env, PORT: String(await getFreePort()), ...env },
      { waitReady: false },
    );
    const exit = await buffer.exited;
    return { code: exit.code, output: buffer.output() };
  }

  it('refuses a bad setting and names the variable', async () => {
    const result = await exitOf({ KEY_PREFIX: uniquePrefix('cfg'), LEASE_TTL_MS: 'soon' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('LEASE_TTL_MS');
  });

  it('refuses a SHARDS value that differs from the deployment', async () => {
    const prefix = uniquePrefix('shards');
    const first = await startService('buffer', {
      ...redis.env,
      KEY_PREFIX: prefix,
      SHARDS: '8',
      PORT: String(await getFreePort()),
    });
    try {
      const result = await exitOf({ KEY_PREFIX: prefix, SHARDS: '16' });
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/SHARDS=16 .*SHARDS=8/);
    } finally {
      await first.stop();
    }
  });
});
