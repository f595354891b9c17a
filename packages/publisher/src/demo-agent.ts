#!/usr/bin/env node
/**
 * The demo producer of the local start command: streams a fake agent run to
 * a demo user every few seconds over HTTP ingest, and answers the messages
 * that user publishes from the demo page (read from the upstream stream).
 * On SIGTERM or SIGINT it stops its loops and exits within STOP_GRACE_MS
 * (default 5000), whatever Redis and the edge are doing.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, redisSettings } from '@agentwire/config';
import { createKeyLayout, createBlockingClient } from '@agentwire/redis';
import { createLogger, installGracefulStop } from '@agentwire/telemetry';
import { loadDemoAgentEnv, type DemoAgentEnv } from './demo-agent-env.js';
import { playDemoRun } from './demo-run.js';
import { HttpPublisher } from './http-publisher.js';
import { UpstreamReader } from './upstream-reader.js';

let env: DemoAgentEnv;
try {
  env = loadDemoAgentEnv();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`demo-agent: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
const userId = env.DEMO_USER;
const logger = createLogger({ service: 'demo-agent', instance: userId, level: env.LOG_LEVEL });

const publisher = new HttpPublisher({ url: env.EDGE_URL, token: env.INGEST_TOKEN });
const shutdown = new AbortController();
const { signal } = shutdown;
/** Waits `ms`, less when stopping; never rejects. */
const pause = (ms: number): Promise<void> =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

async function streamRun(prompt: string): Promise<void> {
  const runId = `run-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const writer = publisher.run({ userId, runId, threadId: 'demo', signal });
  try {
    const texts = await playDemoRun(writer, prompt, {
      tokensPerSecond: env.DEMO_TOKENS_PER_SECOND,
      signal,
    });
    // The streams' texts, exactly as the service keeps them: what tests compare with.
    if (!signal.aborted) logger.info({ runId, texts }, 'run streamed');
  } catch (error) {
    if (!signal.aborted) logger.warn({ err: error, runId }, 'run failed');
  }
}

async function runOnSchedule(): Promise<void> {
  let n = 0;
  while (!signal.aborted) {
    await streamRun(`scheduled question #${++n}`);
    await pause(env.DEMO_INTERVAL_MS);
  }
}

async function answerUpstream(): Promise<void> {
  const redis = redisSettings(env);
  const client = createBlockingClient(redis.target, 'demo-agent:upstream');
  client.on('error', () => undefined);
  const keys = createKeyLayout(redis.keyPrefix, redis.shards);
  const reader = new UpstreamReader({ client, keys, consumer: 'demo-agent' });
  try {
    for await (const message of reader.messages(signal)) {
      const data = JSON.parse(message.data) as { text?: unknown };
      if (message.userId === userId) {
        await streamRun(typeof data.text === 'string' ? data.text : 'a message');
      }
      await reader.ack(message.entryId);
    }
  } finally {
    client.disconnect();
  }
}

const scheduled = runOnSchedule();
const upstream = answerUpstream().catch((error: unknown) => {
  if (!signal.aborted) logger.error({ err: error }, 'upstream reader stopped');
});
installGracefulStop({
  logger,
  graceMs: env.STOP_GRACE_MS,
  stop: async (steps) => {
    shutdown.abort();
    // Both loops end at once on the abort; the bounds cover an acknowledgement
    // waiting on a Redis that does not answer (the message is delivered again).
    await steps.run('scheduled run', () => scheduled, steps.budgetMs(0.5));
    await steps.run('upstream reader', () => upstream, steps.budgetMs(0.5));
  },
});
logger.info({ edgeUrl: env.EDGE_URL, userId }, 'streaming demo runs');
