import { startFloorRelay } from './src/floor-relay.js';

/**
 * The floor relay as its own process (started by perf-suite.ts, or by hand):
 * FLOOR_PORT (or PORT), REDIS_URL, INGEST_TOKEN and JWT_SECRET come from the
 * environment. SIGTERM or SIGINT stops it.
 */
const port = Number(process.env.FLOOR_PORT ?? process.env.PORT);
const redisUrl = process.env.REDIS_URL;
const ingestToken = process.env.INGEST_TOKEN;
const jwtSecret = process.env.JWT_SECRET;
if (!Number.isInteger(port) || port <= 0 || !redisUrl || !ingestToken || !jwtSecret) {
  console.error('floor relay: set PORT (or FLOOR_PORT), REDIS_URL, INGEST_TOKEN and JWT_SECRET');
  process.exit(2);
}
const controller = new AbortController();
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => controller.abort());
const relay = await startFloorRelay({
  port,
  redisUrl,
  ingestToken,
  jwtSecret,
  signal: controller.signal,
});
console.log(`floor relay listening on 127.0.0.1:${port}`);
await relay.done;
process.exit(0);
