import type { KeyLayout, RedisClient } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import { Queue, Worker } from 'bullmq';
import { reapDeadNodes } from './reap-dead-nodes.js';
import { sweepRetention } from './sweep-retention.js';

export interface MaintenanceJobsOptions {
  /** Connection for the queue (commands). */
  client: RedisClient;
  /** Connection for the worker (blocking reads). */
  workerClient: RedisClient;
  keys: KeyLayout;
  nodeTtlMs: number;
  retentionMs: number;
  retentionSweepMs: number;
  logger: Logger;
}

export const JobName = {
  reapDeadNodes: 'reap-dead-nodes',
  sweepRetention: 'sweep-retention',
} as const;

/**
 * Scheduled work that stays off the per-event path, run by BullMQ so that
 * exactly one replica runs each occurrence and a failed run is retried.
 * The queue's keys share one hash tag, as BullMQ needs on Redis Cluster.
 */
export class MaintenanceJobs {
  private readonly queue: Queue;
  private readonly worker: Worker;

  constructor(private readonly options: MaintenanceJobsOptions) {
    const prefix = `${options.keys.prefix}:{jobs}`;
    this.queue = new Queue('maintenance', { connection: options.client, prefix });
    this.worker = new Worker(
      'maintenance',
      async (job) => {
        if (job.name === JobName.reapDeadNodes) {
          const reaped = await reapDeadNodes(options.client, options.keys, options.nodeTtlMs);
          if (reaped.length > 0) options.logger.info({ nodes: reaped }, 'reaped dead edge nodes');
          return reaped.length;
        }
        if (job.name === JobName.sweepRetention) {
          return sweepRetention(options.client, options.keys, options.retentionMs);
        }
        throw new Error(`unknown maintenance job ${job.name}`);
      },
      { connection: options.workerClient, prefix, concurrency: 1, autorun: true },
    );
    this.worker.on('error', () => undefined);
    this.queue.on('error', () => undefined);
  }

  async schedule(): Promise<void> {
    const common = { removeOnComplete: 100, removeOnFail: 100, attempts: 3 };
    await this.queue.upsertJobScheduler(
      JobName.reapDeadNodes,
      { every: Math.max(500, Math.floor(this.options.nodeTtlMs / 2)) },
      { name: JobName.reapDeadNodes, opts: common },
    );
    await this.queue.upsertJobScheduler(
      JobName.sweepRetention,
      { every: this.options.retentionSweepMs },
      { name: JobName.sweepRetention, opts: common },
    );
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }
}
