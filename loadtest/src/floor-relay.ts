import { Redis } from 'ioredis';
import { jwtVerify } from 'jose';
import uWS from 'uWebSockets.js';

/**
 * The floor of the benchmark: the smallest relay that does what the product
 * does with none of its guarantees. POST /v1/events XADDs every event to one
 * Redis stream; one blocking XREAD loop forwards each entry to the sockets of
 * its user. No sequencing in Redis, no persistence, no replay, no acks (ack
 * frames are ignored): `seq` is a per-user counter in memory, stamped only so
 * the fleet's delivery ledger can account for the events. It speaks enough of
 * the protocol (hello with a JWT, welcome, event frames of the same shape)
 * for the same fleet client to run against it.
 */
export interface FloorRelayOptions {
  port: number;
  redisUrl: string;
  ingestToken: string;
  jwtSecret: string;
  signal: AbortSignal;
}

export interface FloorRelay {
  /** Resolves when the read loop has stopped (after the signal aborted). */
  readonly done: Promise<void>;
}

// Not an agentwire key (the floor is not the product): one stream, capped so memory stays bounded.
const STREAM = 'floor:events';
const STREAM_MAX_LEN = '1000000';
const READ_COUNT = 1000;
const READ_BLOCK_MS = 1000;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

interface FloorSocket {
  userId: string | undefined;
  closed: boolean;
}

interface IngestEvent {
  id: string;
  userId: string;
  name: string;
  critical?: boolean;
  runId?: string;
  data?: unknown;
}

export async function startFloorRelay(options: FloorRelayOptions): Promise<FloorRelay> {
  const writer = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  const reader = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const key = new TextEncoder().encode(options.jwtSecret);
  const socketsByUser = new Map<string, Set<uWS.WebSocket<FloorSocket>>>();
  const seqByUser = new Map<string, number>();
  const expectedAuth = `Bearer ${options.ingestToken}`;
  let connections = 0;

  const app = uWS.App();
  app.get('/healthz', (res) => {
    res.end('ok');
  });
  app.get('/readyz', (res) => {
    res.end('ok');
  });
  app.post('/v1/events', (res, req) => {
    const authorized = req.getHeader('authorization') === expectedAuth;
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    if (!authorized) {
      res.cork(() => res.writeStatus('401 Unauthorized').end('{"error":"unauthorized"}'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > MAX_BODY_BYTES) {
        if (!aborted) res.cork(() => res.writeStatus('413 Payload Too Large').end());
        aborted = true;
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      void ingest(Buffer.concat(chunks)).then(
        (status) => {
          if (!aborted) res.cork(() => res.writeStatus(status.line).end(status.body));
        },
        () => {
          if (!aborted) res.cork(() => res.writeStatus('503 Service Unavailable').end());
        },
      );
    });
  });
  app.ws<FloorSocket>('/v1/ws', {
    compression: uWS.DISABLED,
    maxPayloadLength: 64 * 1024,
    maxBackpressure: 64 * 1024 * 1024,
    idleTimeout: 60,
    sendPingsAutomatically: true,
    upgrade: (res, req, context) => {
      res.upgrade<FloorSocket>(
        { userId: undefined, closed: false },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: () => {
      connections++;
    },
    message: (ws, message) => {
      const state = ws.getUserData();
      if (state.userId !== undefined) return; // acks and anything else: ignored
      let frame: { type?: unknown; token?: unknown };
      try {
        frame = JSON.parse(Buffer.from(message).toString('utf8')) as typeof frame;
      } catch {
        ws.end(4400, 'malformed frame');
        return;
      }
      if (frame.type !== 'hello' || typeof frame.token !== 'string') {
        ws.end(4001, 'expected hello with a token');
        return;
      }
      void verify(frame.token).then((userId) => {
        if (state.closed) return;
        if (userId === undefined) {
          ws.end(4001, 'invalid token');
          return;
        }
        state.userId = userId;
        let sockets = socketsByUser.get(userId);
        if (!sockets) {
          sockets = new Set();
          socketsByUser.set(userId, sockets);
        }
        sockets.add(ws);
        const welcome = JSON.stringify({
          type: 'welcome',
          connectionId: `floor-${connections}`,
          node: 'floor',
          userId,
          epoch: 'floor',
          latestSeq: seqByUser.get(userId) ?? 0,
          oldestSeq: 0,
          resumed: true,
          heartbeatMs: 25_000,
          maxPayload: 65_536,
        });
        ws.cork(() => ws.send(welcome, false));
      });
    },
    close: (ws) => {
      const state = ws.getUserData();
      state.closed = true;
      connections--;
      if (state.userId === undefined) return;
      const sockets = socketsByUser.get(state.userId);
      sockets?.delete(ws);
      if (sockets?.size === 0) socketsByUser.delete(state.userId);
    },
  });

  async function verify(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp'],
      });
      return typeof payload.sub === 'string' ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  }

  async function ingest(body: Buffer): Promise<{ line: string; body: string }> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return { line: '400 Bad Request', body: '{"error":"invalid JSON"}' };
    }
    const events = (Array.isArray(parsed) ? parsed : [parsed]) as IngestEvent[];
    if (events.length === 0) return { line: '400 Bad Request', body: '{"error":"empty"}' };
    const ts = Date.now();
    const pipeline = writer.pipeline();
    for (const event of events) {
      if (
        typeof event !== 'object' ||
        event === null ||
        typeof event.id !== 'string' ||
        typeof event.userId !== 'string' ||
        typeof event.name !== 'string'
      ) {
        return { line: '400 Bad Request', body: '{"error":"id, userId and name are required"}' };
      }
      const stored = JSON.stringify({
        id: event.id,
        critical: event.critical !== false,
        name: event.name,
        runId: event.runId,
        ts,
        data: event.data,
      });
      pipeline.xadd(STREAM, 'MAXLEN', '~', STREAM_MAX_LEN, '*', 'u', event.userId, 'e', stored);
    }
    const results = await pipeline.exec();
    if (!results || results.some(([err]) => err)) throw new Error('XADD failed');
    return { line: '202 Accepted', body: `{"accepted":${events.length}}` };
  }

  function forward(userId: string, stored: string): void {
    const seq = (seqByUser.get(userId) ?? 0) + 1;
    seqByUser.set(userId, seq);
    const sockets = socketsByUser.get(userId);
    if (!sockets) return;
    const frame = `{"type":"event","seq":${seq},${stored.slice(1)}`;
    for (const ws of sockets) ws.cork(() => ws.send(frame, false));
  }

  async function readLoop(): Promise<void> {
    let lastId = '0-0'; // a fresh private Redis: the stream starts empty
    while (!options.signal.aborted) {
      let reply: Array<[string, Array<[string, string[]]>]> | null;
      try {
        reply = (await reader.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          STREAM,
          lastId,
        )) as Array<[string, Array<[string, string[]]>]> | null;
      } catch {
        if (options.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          lastId = id;
          const userId = fields[1];
          const stored = fields[3];
          if (userId !== undefined && stored !== undefined) forward(userId, stored);
        }
      }
    }
  }

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen('127.0.0.1', options.port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`floor relay could not listen on 127.0.0.1:${options.port}`));
    });
  });
  const done = readLoop().finally(() => {
    uWS.us_listen_socket_close(listenSocket);
    writer.disconnect();
    reader.disconnect();
  });
  options.signal.addEventListener('abort', () => reader.disconnect(), { once: true });
  return { done };
}
