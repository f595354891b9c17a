import { Counter, Gauge, Histogram, latencyBuckets, type Registry } from '@agentwire/telemetry';

/** Every metric the edge exports (names fixed by the common brief). */
export interface EdgeMetrics {
  readonly registry: Registry;
  connections: Gauge;
  connects: Counter;
  disconnects: Counter<'code'>;
  /** Pre-bound children: label lookups stay off the hot path. */
  eventsSentCritical: Counter.Internal;
  eventsSentNonCritical: Counter.Internal;
  nonCriticalDropped: Counter;
  snapshotsSent: Counter;
  slowConsumerCloses: Counter;
  /** Largest send buffer seen in the last connection sweep (bytes). */
  sendBufferHighWater: Gauge;
  replayEvents: Histogram;
  replayDuration: Histogram;
  deliveryLatency: Histogram;
  inboxLag: Gauge;
  acksConfirmed: Counter;
  acksTimedOut: Counter;
  ackLatency: Histogram;
  /** Connections closed (4408) for leaving an event unacknowledged too long. */
  ackTimeoutCloses: Counter;
  ingestEvents: Counter;
  ingestRequests: Counter<'status'>;
  upstreamPublished: Counter;
  /** `publish` frames answered with an error frame, by error code. */
  upstreamRejected: Counter<'code'>;
}

export function createEdgeMetrics(registry: Registry): EdgeMetrics {
  const registers = [registry];
  const eventsSent = new Counter({
    name: 'aw_edge_events_sent_total',
    help: 'Event frames sent to WebSocket connections (live and replay)',
    labelNames: ['critical'],
    registers,
  });
  return {
    registry,
    connections: new Gauge({
      name: 'aw_edge_connections',
      help: 'Open WebSocket connections on this node',
      registers,
    }),
    connects: new Counter({
      name: 'aw_edge_connects_total',
      help: 'WebSocket connections opened',
      registers,
    }),
    disconnects: new Counter({
      name: 'aw_edge_disconnects_total',
      help: 'WebSocket connections closed, by close code',
      labelNames: ['code'],
      registers,
    }),
    eventsSentCritical: eventsSent.labels('true'),
    eventsSentNonCritical: eventsSent.labels('false'),
    nonCriticalDropped: new Counter({
      name: 'aw_edge_noncritical_dropped_total',
      help: 'Non-critical events dropped because a send buffer passed the soft limit',
      registers,
    }),
    snapshotsSent: new Counter({
      name: 'aw_edge_run_snapshots_sent_total',
      help: 'Run snapshots sent after welcome, after dropped appends and in answer to sync',
      registers,
    }),
    slowConsumerCloses: new Counter({
      name: 'aw_edge_slow_consumer_closes_total',
      help: 'Connections closed with 4408 because their send buffer passed the hard limit',
      registers,
    }),
    sendBufferHighWater: new Gauge({
      name: 'aw_edge_send_buffer_high_water_bytes',
      help: 'Largest WebSocket send buffer on this node at the last sweep (once a second)',
      registers,
    }),
    replayEvents: new Histogram({
      name: 'aw_edge_replay_events',
      help: 'Critical events replayed per session opening',
      buckets: [0, 1, 10, 100, 1000, 10_000, 100_000],
      registers,
    }),
    replayDuration: new Histogram({
      name: 'aw_edge_replay_duration_seconds',
      help: 'Time from hello to live delivery (session open, welcome, replay)',
      buckets: latencyBuckets,
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'aw_edge_delivery_latency_seconds',
      help: 'Ingest time to hand-off to the socket, sampled (1 event in 8)',
      buckets: latencyBuckets,
      registers,
    }),
    inboxLag: new Gauge({
      name: 'aw_edge_inbox_lag_seconds',
      help: 'Age of the newest inbox entry at the time it was read',
      registers,
    }),
    acksConfirmed: new Counter({
      name: 'aw_edge_acks_confirmed_total',
      help: 'Critical events acknowledged by the connection they were sent on',
      registers,
    }),
    acksTimedOut: new Counter({
      name: 'aw_edge_acks_timed_out_total',
      help: 'Critical events not acknowledged within ACK_TIMEOUT_MS',
      registers,
    }),
    ackLatency: new Histogram({
      name: 'aw_edge_ack_latency_seconds',
      help: 'Time from sending a critical event to its acknowledgement',
      buckets: latencyBuckets,
      registers,
    }),
    ackTimeoutCloses: new Counter({
      name: 'aw_edge_ack_timeout_closes_total',
      help: 'Connections closed with 4408 for leaving a critical event unacknowledged past ACK_CLOSE_MULTIPLIER x ACK_TIMEOUT_MS',
      registers,
    }),
    ingestEvents: new Counter({
      name: 'aw_edge_ingest_events_total',
      help: 'Events accepted by POST /v1/events (202)',
      registers,
    }),
    ingestRequests: new Counter({
      name: 'aw_edge_ingest_requests_total',
      help: 'POST /v1/events requests, by HTTP status',
      labelNames: ['status'],
      registers,
    }),
    upstreamPublished: new Counter({
      name: 'aw_edge_upstream_published_total',
      help: 'Upstream publish frames appended to the upstream stream (repeats of an id not counted)',
      registers,
    }),
    upstreamRejected: new Counter({
      name: 'aw_edge_upstream_rejected_total',
      help: 'Upstream publish frames answered with an error frame, by error code',
      labelNames: ['code'],
      registers,
    }),
  };
}
