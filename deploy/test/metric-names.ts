/**
 * Prometheus metrics the services export (the design brief's list). The
 * dashboard may query only these and Node's default process metrics.
 */
export const EDGE_METRICS = [
  'aw_edge_connections',
  'aw_edge_connects_total',
  'aw_edge_disconnects_total',
  'aw_edge_events_sent_total',
  'aw_edge_noncritical_dropped_total',
  'aw_edge_slow_consumer_closes_total',
  'aw_edge_replay_events',
  'aw_edge_replay_duration_seconds',
  'aw_edge_delivery_latency_seconds',
  'aw_edge_inbox_lag_seconds',
  'aw_edge_acks_confirmed_total',
  'aw_edge_acks_timed_out_total',
  'aw_edge_ack_latency_seconds',
  'aw_edge_ingest_events_total',
  'aw_edge_ingest_requests_total',
  'aw_edge_upstream_published_total',
] as const;

export const BUFFER_METRICS = [
  'aw_buffer_owned_shards',
  'aw_buffer_shard_pending',
  'aw_buffer_shard_oldest_pending_age_seconds',
  'aw_buffer_events_processed_total',
  'aw_buffer_dedupe_hits_total',
  'aw_buffer_persist_seconds',
  'aw_buffer_forward_seconds',
  'aw_buffer_lease_takeovers_total',
] as const;
