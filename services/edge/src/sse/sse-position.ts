/** Where an SSE stream starts: like hello's lastSeq and epoch. */
export type SsePosition =
  { ok: true; lastSeq?: number; epoch?: string } | { ok: false; message: string };

/** Epochs are base64url (session-opener.ts); 64 is hello's bound. */
const EPOCH = /^[A-Za-z0-9_-]{1,64}$/;
const SEQ = /^\d{1,16}$/;

function parseSeq(text: string): number | undefined {
  if (!SEQ.test(text)) return undefined;
  const seq = Number(text);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/**
 * The resume position of GET /v1/sse (protocol.md section 10). A
 * `Last-Event-ID: <epoch>:<seq>` header wins over `?lastSeq=N&epoch=E`:
 * EventSource reconnects to the same URL and adds the header itself, so the
 * header is the newer position. Neither: a live start. Anything malformed
 * (an empty or non-integer seq, an epoch of other characters, an epoch
 * without lastSeq) is refused rather than guessed at (400).
 */
export function parseSsePosition(lastEventId: string, query: URLSearchParams): SsePosition {
  if (lastEventId !== '') {
    const colon = lastEventId.lastIndexOf(':');
    const epoch = lastEventId.slice(0, colon);
    const seq = colon > 0 ? parseSeq(lastEventId.slice(colon + 1)) : undefined;
    if (seq === undefined || !EPOCH.test(epoch)) {
      return { ok: false, message: 'Last-Event-ID must be <epoch>:<seq>' };
    }
    return { ok: true, lastSeq: seq, epoch };
  }
  const lastSeqText = query.get('lastSeq');
  const epoch = query.get('epoch');
  if (epoch !== null && !EPOCH.test(epoch)) {
    return { ok: false, message: 'epoch must be 1 to 64 characters of [A-Za-z0-9_-]' };
  }
  if (lastSeqText === null) {
    return epoch === null ? { ok: true } : { ok: false, message: 'epoch needs lastSeq' };
  }
  const lastSeq = parseSeq(lastSeqText);
  if (lastSeq === undefined)
    return { ok: false, message: 'lastSeq must be a non-negative integer' };
  return epoch === null ? { ok: true, lastSeq } : { ok: true, lastSeq, epoch };
}
