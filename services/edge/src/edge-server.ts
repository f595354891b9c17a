import uWS from 'uWebSockets.js';
import type { EdgeContext } from './edge-context.js';
import { createDemoStaticHandler } from './http/demo-static-handler.js';
import { createHealthHandler, createReadyHandler } from './http/health-handler.js';
import { createIngestHandler } from './http/ingest-handler.js';
import { createMetricsHandler } from './http/metrics-handler.js';
import { notFoundHandler } from './http/not-found-handler.js';
import { createPresenceHandler } from './http/presence-handler.js';
import { createUserAckHandler } from './http/user-ack-handler.js';
import { createUserCors } from './http/user-cors.js';
import { createUserHistoryHandler } from './http/user-history-handler.js';
import { createUserRunHandler } from './http/user-run-handler.js';
import { createUserPublishHandler } from './http/user-publish-handler.js';
import { RequestTracker } from './request-tracker.js';
import { createSseHandler } from './sse/sse-handler.js';
import { createWsBehavior } from './ws/ws-behavior.js';

export interface EdgeServer {
  /** Starts listening on 0.0.0.0:port; resolves with the bound port. */
  listen(port: number): Promise<number>;
  /**
   * Stops accepting connections; open sockets stay until closed. Ingest
   * answers from now on close their connection, so kept-alive producers
   * reconnect elsewhere.
   */
  stopListening(): void;
  /** Resolves when no ingest request is in flight (shutdown lets them finish). */
  ingestIdle(): Promise<void>;
}

/** The uWS app: the WebSocket endpoint and every HTTP route of protocol.md sections 6 and 10. */
export function createEdgeServer(ctx: EdgeContext): EdgeServer {
  const app = uWS.App();
  const ingestRequests = new RequestTracker();
  app.ws('/v1/ws', createWsBehavior(ctx));
  app.post('/v1/events', ingestRequests.track(createIngestHandler(ctx)));
  app.get('/v1/users/:id/presence', createPresenceHandler(ctx));
  // Section 10: the same stream over SSE, and its HTTP companions.
  const cors = createUserCors(ctx.env.ALLOWED_ORIGINS);
  app.get('/v1/sse', createSseHandler(ctx, cors));
  app.post('/v1/ack', createUserAckHandler(ctx, cors));
  app.post('/v1/publish', createUserPublishHandler(ctx, cors));
  app.get('/v1/history', createUserHistoryHandler(ctx, cors));
  app.get('/v1/runs/:runId', createUserRunHandler(ctx, cors));
  for (const path of ['/v1/sse', '/v1/ack', '/v1/publish', '/v1/history', '/v1/runs/:runId']) {
    app.options(path, cors.preflight);
  }
  app.get('/healthz', createHealthHandler());
  app.get('/readyz', createReadyHandler(ctx));
  app.get('/metrics', createMetricsHandler(ctx.metrics.registry));
  if (ctx.env.DEMO_DIR !== undefined && ctx.env.DEMO_DIR !== '') {
    const demo = createDemoStaticHandler(ctx.env.DEMO_DIR);
    app.get('/demo', demo);
    app.get('/demo/*', demo);
  }
  app.any('/*', notFoundHandler);

  let listenSocket: uWS.us_listen_socket | undefined;
  return {
    listen: (port) =>
      new Promise((resolve, reject) => {
        app.listen('0.0.0.0', port, (socket) => {
          if (socket === false) {
            reject(new Error(`cannot listen on port ${port}`));
            return;
          }
          listenSocket = socket;
          resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
        });
      }),
    stopListening: () => {
      ingestRequests.closeConnections();
      if (listenSocket === undefined) return;
      uWS.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
    },
    ingestIdle: () => ingestRequests.idle(),
  };
}
