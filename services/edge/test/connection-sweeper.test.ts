import { Registry } from '@agentwire/telemetry';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEdgeMetrics, type EdgeMetrics } from '../src/metrics.js';
import { Connection, type ConnectionShared } from '../src/ws/connection.js';
import { startConnectionSweeper } from '../src/ws/connection-sweeper.js';
import { FakeSocket } from './support/fake-socket.js';

const frameOf = (seq: number): string => `{"type":"event","seq":${seq}}`;

let metrics: EdgeMetrics;
let shared: ConnectionShared;
let owedServed: Connection[];
let loops: AbortController;
let connections: Set<Connection>;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  metrics = createEdgeMetrics(new Registry());
  owedServed = [];
  shared = {
    limits: {
      softBytes: 1000,
      hardBytes: 5000,
      queueMaxItems: 100,
      queueMaxBytes: 100_000,
      ackTrackCapacity: 64,
      publish: { ratePerSec: 20, burst: 40, closeAfterViolations: 10, violationWindowMs: 10_000 },
    },
    metrics,
    catchUp: () => undefined,
    observeAckMs: (ms) => metrics.ackLatency.observe(ms / 1000),
    serveOwedSnapshots: (conn) => owedServed.push(conn),
  };
  loops = new AbortController();
  connections = new Set();
  startConnectionSweeper({
    connections,
    ackTimeoutMs: 500,
    ackCloseMultiplier: 3,
    metrics,
    signal: loops.signal,
  });
});

afterEach(() => {
  loops.abort();
  vi.useRealTimers();
});

function liveConnection(): { conn: Connection; socket: FakeSocket } {
  const socket = new FakeSocket();
  const conn = new Connection(`c-${connections.size}`, undefined, shared, Date.now());
  socket.onEnd = () => {
    conn.markClosed();
    connections.delete(conn);
  };
  conn.attach(socket);
  conn.userId = 'u1';
  conn.epoch = 'ep';
  conn.state = 'replaying';
  conn.goLive(Date.now());
  connections.add(conn);
  return { conn, socket };
}

function deliver(conn: Connection, seq: number): void {
  const dirty: Connection[] = [];
  conn.offer(seq, frameOf(seq), 'ep', Date.now(), dirty);
  for (const c of dirty) c.flushOutbox(Date.now());
}

async function metricValue(name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

describe('connection sweeper', () => {
  it('counts an unacknowledged event once, then closes 4408 after 3 x ACK_TIMEOUT_MS', async () => {
    const silent = liveConnection();
    const acking = liveConnection();
    deliver(silent.conn, 1);
    deliver(acking.conn, 1);
    await vi.advanceTimersByTimeAsync(250);
    acking.conn.ack(1, Date.now());
    await vi.advanceTimersByTimeAsync(500);
    expect(await metricValue('aw_edge_acks_timed_out_total')).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(await metricValue('aw_edge_acks_timed_out_total')).toBe(1);
    expect(silent.socket.closed).toBeUndefined();
    await vi.advanceTimersByTimeAsync(500);
    expect(silent.socket.closed?.code).toBe(4408);
    expect(acking.socket.closed).toBeUndefined();
    expect(await metricValue('aw_edge_ack_timeout_closes_total')).toBe(1);
    expect(await metricValue('aw_edge_acks_confirmed_total')).toBe(1);
  });

  it('keeps a connection that acks, however long it lives', async () => {
    const { conn, socket } = liveConnection();
    for (let seq = 1; seq <= 20; seq++) {
      deliver(conn, seq);
      await vi.advanceTimersByTimeAsync(200);
      conn.ack(seq, Date.now());
    }
    expect(socket.closed).toBeUndefined();
    expect(await metricValue('aw_edge_acks_timed_out_total')).toBe(0);
  });

  it('reports the largest send buffer of the last sweep', async () => {
    const a = liveConnection();
    const b = liveConnection();
    a.socket.buffered = 300;
    b.socket.buffered = 4200;
    await vi.advanceTimersByTimeAsync(250);
    expect(await metricValue('aw_edge_send_buffer_high_water_bytes')).toBe(4200);
    b.socket.buffered = 0;
    await vi.advanceTimersByTimeAsync(250);
    expect(await metricValue('aw_edge_send_buffer_high_water_bytes')).toBe(300);
  });
});
