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
import { createKeyLayout, createBlockingClient } from '@agentwire/redis';
import { createLogger, installGracefulStop } from '@agentwire/telemetry';
import { demoRunEvents } from './demo-run.js';
import { HttpPublisher } from './http-publisher.js';
import { UpstreamReader } from './upstream-reader.js';

const env = process.env;
const edgeUrl = env.EDGE_URL ?? 'http://127.0.0.1:8080';
const userId = env.DEMO_USER ?? 'demo';
const intervalMs = Number(env.DEMO_INTERVAL_MS ?? 8000);
const tokenDelayMs = Number(env.DEMO_TOKEN_DELAY_MS ?? 60);
const stopGraceMs = Number(env.STOP_GRACE_MS ?? 5000);
const logger = createLogger({
  service: 'demo-agent',
  instance: userId,
  level: env.LOG_LEVEL ?? 'info',
});
const ingestToken = env.INGEST_TOKEN;
if (!ingestToken) {
  logger.fatal('INGEST_TOKEN is required');
  process.exit(1);
}
if (!Number.isSafeInteger(stopGraceMs) || stopGraceMs < 100) {
  logger.fatal(`STOP_GRACE_MS: expected an integer >= 100, got "${env.STOP_GRACE_MS}"`);
  process.exit(1);
}

const publisher = new HttpPublisher({ url: edgeUrl, token: ingestToken });
const shutdown = new AbortController();
const { signal } = shutdown;
/** Waits `ms`, less when stopping; never rejects. */
const pause = (ms: number): Promise<void> =>
  sleep(ms, undefined, { signal }).catch(() => undefined);

async function streamRun(prompt: string): Promise<void> {
  const runId = `run-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  for (const event of demoRunEvents(userId, runId, prompt)) {
    if (signal.aborted) return;
    await publisher.publish(event, { signal });
    await pause(event.name === 'token' ? tokenDelayMs : 300);
  }
}

async function runOnSchedule(): Promise<void> {
  let n = 0;
  while (!signal.aborted) {
    await streamRun(`scheduled question #${++n}`).catch((error: unknown) => {
      if (!signal.aborted) logger.warn({ err: error }, 'scheduled run failed');
    });
    await pause(intervalMs);
  }
}

async function answerUpstream(): Promise<void> {
  const target = env.REDIS_CLUSTER_NODES
    ? { clusterNodes: env.REDIS_CLUSTER_NODES.split(',') }
    : { url: env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  const client = createBlockingClient(target, 'demo-agent:upstream');
  client.on('error', () => undefined);
  const keys = createKeyLayout(env.KEY_PREFIX ?? 'aw', Number(env.SHARDS ?? 16));
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
  graceMs: stopGraceMs,
  stop: async (steps) => {
    shutdown.abort();
    // Both loops end at once on the abort; the bounds cover an acknowledgement
    // waiting on a Redis that does not answer (the message is delivered again).
    await steps.run('scheduled run', () => scheduled, steps.budgetMs(0.5));
    await steps.run('upstream reader', () => upstream, steps.budgetMs(0.5));
  },
});
logger.info({ edgeUrl, userId }, 'streaming demo runs');
