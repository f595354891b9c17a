import {
  Counter,
  Gauge,
  Histogram,
  type Registry,
  createMetricsRegistry,
  latencyBuckets,
} from '@agentwire/telemetry';

/** The buffer's Prometheus metrics, created once per process. */
export function createBufferMetrics(instance: string) {
  const registry: Registry = createMetricsRegistry({ service: 'buffer', instance });
  const registers = [registry];
  return {
    registry,
    ownedShards: new Gauge({
      name: 'aw_buffer_owned_shards',
      help: 'Ingest shards this replica holds the lease of',
      registers,
    }),
    shardPending: new Gauge({
      name: 'aw_buffer_shard_pending',
      help: 'Entries delivered to the consumer group but not yet acknowledged',
      labelNames: ['shard'],
      registers,
    }),
    shardOldestPendingAge: new Gauge({
      name: 'aw_buffer_shard_oldest_pending_age_seconds',
      help: 'Age of the oldest unacknowledged entry of a shard',
      labelNames: ['shard'],
      registers,
    }),
    eventsProcessed: new Counter({
      name: 'aw_buffer_events_processed_total',
      help: 'Ingest entries persisted and forwarded',
      registers,
    }),
    dedupeHits: new Counter({
      name: 'aw_buffer_dedupe_hits_total',
      help: 'Events whose id was seen before and that were not delivered again',
      registers,
    }),
    persistSeconds: new Histogram({
      name: 'aw_buffer_persist_seconds',
      help: 'Time of one persist script call (one batch)',
      buckets: latencyBuckets,
      registers,
    }),
    forwardSeconds: new Histogram({
      name: 'aw_buffer_forward_seconds',
      help: 'Time to append one batch to the inboxes of the target edges',
      buckets: latencyBuckets,
      registers,
    }),
    replicationSeconds: new Histogram({
      name: 'aw_buffer_replication_seconds',
      help: 'Time of one WAIT for MIN_REPLICAS acknowledgements of a batch',
      buckets: latencyBuckets,
      registers,
    }),
    replicationTimeouts: new Counter({
      name: 'aw_buffer_replication_timeouts_total',
      help: 'Batches not forwarded because MIN_REPLICAS did not acknowledge in time',
      registers,
    }),
    historyLosses: new Counter({
      name: 'aw_buffer_history_losses_total',
      help: 'Shard histories found to have lost writes (failover, restore); their users got new epochs',
      registers,
    }),
    strandedReads: new Counter({
      name: 'aw_buffer_stranded_reads_total',
      help: 'Shard batches held back because older entries were pending for another read (claimed and sequenced first)',
      registers,
    }),
    leaseTakeovers: new Counter({
      name: 'aw_buffer_lease_takeovers_total',
      help: 'Shard leases this replica acquired',
      registers,
    }),
  };
}

export type BufferMetrics = ReturnType<typeof createBufferMetrics>;
