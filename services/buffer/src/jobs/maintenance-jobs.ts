import type { KeyLayout, RedisClient } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import { Queue, Worker } from 'bullmq';
import { deliverWebhook } from './deliver-webhook.js';
import { emitStalls, stallCheckEveryMs } from './emit-stalls.js';
import { findUnacknowledged } from './find-unacknowledged.js';
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
  /** RUN_STALL_MS: a running run with no event for this long gets run_stalled; 0 is off. */
  runStallMs: number;
  /** The "not acknowledged by any connection" webhook; off when undefined. */
  unacknowledged?: UnacknowledgedWebhookSettings;
  logger: Logger;
}

export interface UnacknowledgedWebhookSettings {
  url: string;
  afterMs: number;
  checkMs: number;
  lookbackMs: number;
}

/** Events per webhook call at most; the rest go in the next report. */
const MAX_EVENTS_PER_REPORT = 100;
const WEBHOOK_TIMEOUT_MS = 5000;

export const JobName = {
  reapDeadNodes: 'reap-dead-nodes',
  sweepRetention: 'sweep-retention',
  findUnacknowledged: 'find-unacknowledged',
  deliverWebhook: 'deliver-webhook',
  emitStalls: 'emit-stalls',
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
        if (job.name === JobName.emitStalls) {
          // Scheduled by a replica with stall detection on; a mixed deployment
          // (RUN_STALL_MS differs) must not fail it here.
          if (options.runStallMs === 0) return 0;
          const emitted = await emitStalls(options.client, options.keys, options.runStallMs);
          if (emitted > 0) options.logger.info({ runs: emitted }, 'emitted run_stalled');
          return emitted;
        }
        const webhook = options.unacknowledged;
        if (webhook && job.name === JobName.findUnacknowledged) {
          const reports = await findUnacknowledged(options.client, options.keys, {
            afterMs: webhook.afterMs,
            lookbackMs: webhook.lookbackMs,
            maxEvents: MAX_EVENTS_PER_REPORT,
          });
          // Each report is marked before it is queued, and its job id is stable:
          // it is delivered once, with retries, whatever happens to this job.
          for (const report of reports) {
            await this.queue.add(JobName.deliverWebhook, report, {
              jobId: report.id.replaceAll(':', '|'),
              attempts: 8,
              backoff: { type: 'exponential', delay: 1000 },
              removeOnComplete: 1000,
              removeOnFail: 1000,
            });
          }
          return reports.length;
        }
        if (webhook && job.name === JobName.deliverWebhook) {
          await deliverWebhook(webhook.url, job.data, WEBHOOK_TIMEOUT_MS);
          return 'delivered';
        }
        throw new Error(`unknown maintenance job ${job.name}`);
      },
      // A few at once, so a slow webhook receiver does not hold up the reaper.
      { connection: options.workerClient, prefix, concurrency: 4, autorun: true },
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
    if (this.options.unacknowledged) {
      await this.queue.upsertJobScheduler(
        JobName.findUnacknowledged,
        { every: this.options.unacknowledged.checkMs },
        { name: JobName.findUnacknowledged, opts: common },
      );
    } else {
      await this.queue.removeJobScheduler(JobName.findUnacknowledged);
    }
    if (this.options.runStallMs > 0) {
      await this.queue.upsertJobScheduler(
        JobName.emitStalls,
        { every: stallCheckEveryMs(this.options.runStallMs) },
        // Frequent and idempotent: a failed run is simply the next one.
        { name: JobName.emitStalls, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    } else {
      await this.queue.removeJobScheduler(JobName.emitStalls);
    }
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
