#!/usr/bin/env node
/**
 * The demo producer of the local start command: streams a fake agent run to
 * a demo user every few seconds over HTTP ingest, and answers the messages
 * that user publishes from the demo page (read from the upstream stream).
 */
import { randomBytes } from 'node:crypto';
import { createKeyLayout, createBlockingClient } from '@agentwire/redis';
import { demoRunEvents } from './demo-run.js';
import { HttpPublisher } from './http-publisher.js';
import { UpstreamReader } from './upstream-reader.js';

const env = process.env;
const edgeUrl = env.EDGE_URL ?? 'http://127.0.0.1:8080';
const userId = env.DEMO_USER ?? 'demo';
const intervalMs = Number(env.DEMO_INTERVAL_MS ?? 8000);
const tokenDelayMs = Number(env.DEMO_TOKEN_DELAY_MS ?? 60);
const ingestToken = env.INGEST_TOKEN;
if (!ingestToken) {
  process.stderr.write('demo-agent: INGEST_TOKEN is required\n');
  process.exit(1);
}

const publisher = new HttpPublisher({ url: edgeUrl, token: ingestToken });
const shutdown = new AbortController();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function streamRun(prompt: string): Promise<void> {
  const runId = `run-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  for (const event of demoRunEvents(userId, runId, prompt)) {
    if (shutdown.signal.aborted) return;
    await publisher.publish(event);
    await sleep(event.name === 'token' ? tokenDelayMs : 300);
  }
}

async function runOnSchedule(): Promise<void> {
  let n = 0;
  while (!shutdown.signal.aborted) {
    await streamRun(`scheduled question #${++n}`).catch((error: unknown) => {
      process.stderr.write(`demo-agent: ${String(error)}\n`);
    });
    await sleep(intervalMs);
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
    for await (const message of reader.messages(shutdown.signal)) {
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

function stop(): void {
  shutdown.abort();
  // A run's pause or a blocked read may hold the loops for a few seconds: do not wait for them.
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`demo-agent: streaming runs to user "${userId}" through ${edgeUrl}\n`);
await Promise.all([
  runOnSchedule(),
  answerUpstream().catch((error: unknown) => {
    if (!shutdown.signal.aborted) process.stderr.write(`demo-agent: upstream: ${String(error)}\n`);
  }),
]);
process.exit(0);
