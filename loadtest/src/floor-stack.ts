import { fileURLToPath } from 'node:url';
import {
  getFreePort,
  redisProbe,
  startNodeScript,
  startRedis,
  type ServiceProcess,
} from '@agentwire/testing';
import { infoField } from './machine-info.js';

/** A private Redis (no persistence) plus the floor relay process. */
export interface FloorStack {
  relay: ServiceProcess;
  redisUrl: string;
  ingestToken: string;
  jwtSecret: string;
  /** name -> pid of the processes to sample: `redis` and `floor`. */
  pids: Array<{ name: string; pid: number }>;
  redisVersion: string;
  stop(): Promise<void>;
}

const RELAY_SCRIPT = fileURLToPath(new URL('../floor-relay.ts', import.meta.url));

/** Starts redis-server on a free port and `floor-relay.ts` (through tsx) on another. */
export async function startFloorStack(secrets: {
  ingestToken: string;
  jwtSecret: string;
}): Promise<FloorStack> {
  const redis = await startRedis();
  let relay: ServiceProcess;
  try {
    const port = await getFreePort();
    // startNodeScript runs `node <script>`; tsx, registered through NODE_OPTIONS, loads the TypeScript.
    relay = await startNodeScript('edge', RELAY_SCRIPT, {
      PORT: String(port),
      REDIS_URL: redis.url,
      INGEST_TOKEN: secrets.ingestToken,
      JWT_SECRET: secrets.jwtSecret,
      NODE_OPTIONS: '--import tsx',
    });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  const info = await redisProbe(redis.port, ['INFO', 'server']);
  const pids = [
    { name: 'redis', pid: Number(infoField(info, 'process_id')) },
    { name: 'floor', pid: relay.pid },
  ].filter((entry) => Number.isInteger(entry.pid) && entry.pid > 0);
  return {
    relay,
    redisUrl: redis.url,
    ...secrets,
    pids,
    redisVersion: infoField(info, 'redis_version') ?? 'unknown',
    async stop() {
      await relay.stop(5000);
      await redis.stop();
    },
  };
}
