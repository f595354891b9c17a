import { sseEventId } from '@agentwire/protocol';

/** Every server frame is serialised with `type` first (server-frames.ts, persist-batch-1.lua). */
const TYPE_PREFIX = '{"type":"';
/** A critical event frame as the sequencer writes it (persist-batch-1.lua). */
const CRITICAL_PREFIX = '{"type":"event","seq":';
const RECONNECT_PREFIX = '{"type":"reconnect"';
/** SSE event names are one line; anything unexpected is named by this. */
const SAFE_TYPE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The frame's `type`, read from its fixed prefix without parsing (hot path);
 * a frame written some other way (none today) is parsed once.
 */
export function frameType(frame: string): string {
  if (frame.startsWith(TYPE_PREFIX)) {
    const end = frame.indexOf('"', TYPE_PREFIX.length);
    if (end > TYPE_PREFIX.length) {
      const type = frame.slice(TYPE_PREFIX.length, end);
      if (SAFE_TYPE.test(type)) return type;
    }
  }
  try {
    const value: unknown = JSON.parse(frame);
    const type = (value as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && SAFE_TYPE.test(type)) return type;
  } catch {
    // Not JSON: named below.
  }
  return 'message';
}

/** The seq of a critical event frame, 0 for anything else. */
export function criticalSeq(frame: string): number {
  if (!frame.startsWith(CRITICAL_PREFIX)) return 0;
  const seq = Number.parseInt(frame.slice(CRITICAL_PREFIX.length, CRITICAL_PREFIX.length + 17), 10);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
}

/** True for a `reconnect` frame: the SSE stream ends after it. */
export function isReconnectFrame(frame: string): boolean {
  return frame.startsWith(RECONNECT_PREFIX);
}

function reconnectAfterMs(frame: string): number {
  try {
    const afterMs = (JSON.parse(frame) as { afterMs?: unknown }).afterMs;
    return typeof afterMs === 'number' && Number.isSafeInteger(afterMs) && afterMs >= 0
      ? afterMs
      : 0;
  } catch {
    return 0;
  }
}

/**
 * One server frame as one SSE message (protocol.md section 10):
 * `event: <type>`, for critical events `id: <epoch>:<seq>` (what EventSource
 * sends back as Last-Event-ID), for `reconnect` also `retry: <afterMs>`,
 * then `data: <the frame>`. Frames are single-line JSON (JSON.stringify
 * escapes CR and LF), so one data line carries the whole frame.
 */
export function sseMessage(frame: string, epoch: string): string {
  const type = frameType(frame);
  if (type === 'event') {
    const seq = criticalSeq(frame);
    if (seq > 0) return `event: event\nid: ${sseEventId(epoch, seq)}\ndata: ${frame}\n\n`;
    return `event: event\ndata: ${frame}\n\n`;
  }
  if (type === 'reconnect') {
    return `retry: ${reconnectAfterMs(frame)}\nevent: reconnect\ndata: ${frame}\n\n`;
  }
  return `event: ${type}\ndata: ${frame}\n\n`;
}
