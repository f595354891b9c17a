import { CloseCode, ErrorCode } from '@agentwire/protocol';
import uWS from 'uWebSockets.js';
import { connectionClosed, connectionId, connectionOpened } from '../connection-lifecycle.js';
import type { EdgeContext } from '../edge-context.js';
import { parseBearer } from '../http/bearer.js';
import { handshakeProblem, refuseHandshake } from '../http/websocket-handshake.js';
import { Connection } from './connection.js';
import { handleClientText } from './client-frame-handler.js';

export interface SocketData {
  conn: Connection;
}

/** Margin above MAX_PAYLOAD that uWS still delivers, so the edge itself answers 4009. */
const PAYLOAD_MARGIN = 64 * 1024;

/**
 * The /v1/ws behaviour (protocol.md section 1).
 *
 * Node connection limit: checked when the socket opens and answered with
 * close 4008 (the contract's code for "too many connections for this user or
 * node"), not with an HTTP 503 on upgrade, because browsers cannot read the
 * status of a refused upgrade but can read a close code.
 *
 * Frames between MAX_PAYLOAD and MAX_PAYLOAD + 64 KiB close with 4009; above
 * that uWS stops reading the frame and closes the socket itself (code 1009).
 */
export function createWsBehavior(ctx: EdgeContext): uWS.WebSocketBehavior<SocketData> {
  const env = ctx.env;
  const allowedOrigins = new Set(env.ALLOWED_ORIGINS);
  return {
    compression: uWS.DISABLED,
    maxPayloadLength: env.MAX_PAYLOAD + PAYLOAD_MARGIN,
    // The edge applies its own soft/hard limits before uWS would drop a send.
    maxBackpressure: env.SEND_BUFFER_HARD_BYTES + 2 * env.MAX_EVENT_BYTES + 256 * 1024,
    // Dead peers: uWS pings when idle and closes sockets that stay silent.
    idleTimeout: idleTimeoutSeconds(env.HEARTBEAT_MS),
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      // uWS frees req when this function returns: copy everything first.
      const secKey = req.getHeader('sec-websocket-key');
      const secProtocol = req.getHeader('sec-websocket-protocol');
      const secExtensions = req.getHeader('sec-websocket-extensions');
      const authorization = req.getHeader('authorization');
      const origin = req.getHeader('origin');
      // uWS checks only the key's length; version and Upgrade header are checked here (RFC 6455 4.2.1).
      const problem = handshakeProblem({
        method: req.getMethod(),
        upgrade: req.getHeader('upgrade'),
        version: req.getHeader('sec-websocket-version'),
        key: secKey,
      });
      if (problem !== undefined) {
        refuseHandshake(res, problem);
        return;
      }

      // Browsers always send Origin; clients without one (servers, CLIs) are not subject to it.
      if (allowedOrigins.size > 0 && origin !== '' && !allowedOrigins.has(origin)) {
        refuseUpgrade(res, '403 Forbidden', ErrorCode.Forbidden, 'origin not allowed');
        return;
      }
      if (ctx.draining) {
        refuseUpgrade(res, '503 Service Unavailable', ErrorCode.Unavailable, 'node draining');
        return;
      }
      const newConnection = (userId: string | undefined): SocketData => ({
        conn: new Connection(connectionId(), userId, ctx.connectionShared, Date.now()),
      });
      if (authorization === '') {
        res.upgrade(newConnection(undefined), secKey, secProtocol, secExtensions, context);
        return;
      }
      const token = parseBearer(authorization);
      if (token === undefined) {
        refuseUpgrade(res, '401 Unauthorized', ErrorCode.Unauthorized, 'expected Bearer token');
        return;
      }
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      void ctx.jwt.verify(token).then((check) => {
        if (aborted) return;
        res.cork(() => {
          if (ctx.draining) {
            // The drain started while the token was checked: the drain plan does not include us.
            refuseUpgrade(res, '503 Service Unavailable', ErrorCode.Unavailable, 'node draining');
          } else if (check.ok) {
            res.upgrade(newConnection(check.userId), secKey, secProtocol, secExtensions, context);
          } else {
            refuseUpgrade(res, '401 Unauthorized', ErrorCode.Unauthorized, check.reason);
          }
        });
      });
    },

    open: (ws) => {
      const conn = ws.getUserData().conn;
      conn.attach(ws);
      connectionOpened(ctx, conn);
      if (ctx.connections.size > env.MAX_CONNECTIONS) {
        conn.end(CloseCode.LimitReached, 'node connection limit reached');
        return;
      }
      conn.helloTimer = setTimeout(() => {
        if (conn.state === 'awaiting_hello') conn.end(CloseCode.Unauthorized, 'no hello in time');
      }, env.HELLO_TIMEOUT_MS);
    },

    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn;
      if (conn.isClosed) return;
      if (isBinary) {
        // Before welcome the contract closes anything but a hello with 4001.
        const welcomed = conn.state === 'replaying' || conn.state === 'live';
        conn.end(
          welcomed ? CloseCode.ProtocolError : CloseCode.Unauthorized,
          'binary frames are not part of the protocol',
        );
        return;
      }
      if (message.byteLength > env.MAX_PAYLOAD) {
        conn.end(CloseCode.FrameTooLarge, `frame larger than maxPayload (${env.MAX_PAYLOAD})`);
        return;
      }
      // The ArrayBuffer is only valid during this call: decode it now.
      handleClientText(ctx, conn, Buffer.from(message).toString('utf8'));
    },

    drain: (ws) => {
      ws.getUserData().conn.onDrain();
    },

    close: (ws, code) => {
      connectionClosed(ctx, ws.getUserData().conn, code);
    },
  };
}

function refuseUpgrade(res: uWS.HttpResponse, status: string, code: string, message: string): void {
  res.cork(() => {
    res
      .writeStatus(status)
      .writeHeader('content-type', 'application/json')
      .end(JSON.stringify({ error: code, message }), true);
  });
}

/**
 * uWS closes sockets that neither send nor answer pings for this long; it
 * needs at least 8 s. Two heartbeat intervals, like the client's own rule.
 */
export function idleTimeoutSeconds(heartbeatMs: number): number {
  return Math.min(960, Math.max(8, Math.ceil((2 * heartbeatMs) / 1000)));
}
