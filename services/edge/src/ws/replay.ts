import { readLogPage, type ReplayedEvent } from '@agentwire/redis';
import type { EdgeContext } from '../edge-context.js';
import type { Connection } from './connection.js';

/** Bytes sent per corked burst before the send buffer is checked again. */
const BURST_BYTES = 64 * 1024;

/**
 * Sends `firstPage`, then reads and sends further log pages from
 * `lastSentSeq + 1` until a short page, then goes live (Connection.goLive
 * flushes what the inbox queued meanwhile). The replay never outruns the
 * client: above the soft send-buffer limit it waits for the socket to drain.
 * If live events overflowed the queue during the replay, the log is read
 * once more before going live: every critical event is in the log before it
 * is forwarded, so that read finds whatever the queue dropped.
 *
 * Returns the number of events sent. Rejects only when a log read fails.
 */
export async function replayThenGoLive(
  ctx: EdgeContext,
  conn: Connection,
  firstPage: readonly ReplayedEvent[],
  firstPageFull: boolean,
): Promise<number> {
  const pageSize = ctx.env.REPLAY_PAGE_SIZE;
  let page = firstPage;
  let full = firstPageFull;
  let sent = 0;
  for (;;) {
    sent += await sendPage(conn, page, ctx.env.SEND_BUFFER_SOFT_BYTES);
    if (conn.isClosed) return sent;
    const overflowed = conn.takeQueueOverflow();
    if (!full && !overflowed) {
      conn.goLive(Date.now());
      return sent;
    }
    page = await readLogPage(ctx.redis, ctx.keys, conn.userId, conn.lastSentSeq + 1, pageSize);
    if (conn.isClosed) return sent;
    full = page.length >= pageSize;
  }
}

async function sendPage(
  conn: Connection,
  page: readonly ReplayedEvent[],
  softBytes: number,
): Promise<number> {
  let index = 0;
  let sent = 0;
  while (index < page.length && !conn.isClosed) {
    if (conn.bufferedAmount() > softBytes) {
      await conn.whenWritable();
      continue;
    }
    const now = Date.now();
    let burst = 0;
    conn.cork(() => {
      while (index < page.length && burst < BURST_BYTES) {
        const event = page[index++] as ReplayedEvent;
        if (event.seq <= conn.lastSentSeq) continue;
        if (!conn.sendReplayed(event.seq, event.frame, now)) return;
        burst += event.frame.length;
        sent++;
      }
    });
  }
  return sent;
}
