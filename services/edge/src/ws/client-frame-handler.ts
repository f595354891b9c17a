import { CloseCode, decodeClientFrame } from '@agentwire/protocol';
import type { EdgeContext } from '../edge-context.js';
import type { Connection } from './connection.js';
import { trackInFlight } from './in-flight.js';
import { answerSync } from './run-snapshots.js';
import { SERVER_ERROR_CLOSE } from './server-error-close.js';
import { openConnectionSession } from './session-opener.js';

/**
 * One text frame from a client, by connection state (protocol.md 1 and 3):
 * - before hello: only a hello is accepted; anything else closes 4001, a
 *   hello with malformed fields 4400;
 * - after hello, before welcome: any frame closes (a second hello 4400,
 *   anything else 4001: the client cannot know a seq yet);
 * - after welcome: ack, publish (see upstream-publisher.ts) and sync
 *   (run-snapshots.ts); a hello or
 *   malformed frame closes 4400.
 */
export function handleClientText(ctx: EdgeContext, conn: Connection, text: string): void {
  const decoded = decodeClientFrame(text);
  switch (conn.state) {
    case 'awaiting_hello': {
      if (!decoded.ok) {
        if (looksLikeHello(text)) conn.end(CloseCode.ProtocolError, decoded.error.message);
        else conn.end(CloseCode.Unauthorized, 'the first frame must be hello');
        return;
      }
      if (decoded.frame.type !== 'hello') {
        conn.end(CloseCode.Unauthorized, 'the first frame must be hello');
        return;
      }
      trackInFlight(
        ctx,
        openConnectionSession(ctx, conn, decoded.frame).catch((error: unknown) => {
          ctx.logger.error({ err: error }, 'opening a session failed unexpectedly');
          conn.end(SERVER_ERROR_CLOSE, 'internal error');
        }),
      );
      return;
    }
    case 'opening': {
      if (decoded.ok && decoded.frame.type === 'hello') {
        conn.end(CloseCode.ProtocolError, 'second hello');
      } else {
        conn.end(CloseCode.Unauthorized, 'no frame but hello before welcome');
      }
      return;
    }
    case 'replaying':
    case 'live': {
      if (!decoded.ok) {
        conn.end(decoded.error.closeCode, decoded.error.message);
        return;
      }
      const frame = decoded.frame;
      if (frame.type === 'ack') {
        if (!conn.ack(frame.seq, Date.now())) {
          conn.end(CloseCode.ProtocolError, `ack ${frame.seq} is above the highest seq sent`);
        } else {
          // The user's position, for the "not acknowledged by any connection" webhook.
          ctx.ackPositions.record(conn.userId, frame.seq);
        }
      } else if (frame.type === 'publish') {
        ctx.upstream.publish(conn, frame);
      } else if (frame.type === 'sync') {
        answerSync(ctx, conn, frame.runId);
      } else {
        conn.end(CloseCode.ProtocolError, 'second hello');
      }
      return;
    }
    case 'closed':
      return;
  }
}

/** Only on the rejection path before welcome: was the broken frame meant as a hello? */
function looksLikeHello(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<string, unknown>).type === 'hello'
    );
  } catch {
    return false;
  }
}
