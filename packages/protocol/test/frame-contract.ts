/**
 * The rules of protocol.md sections 1, 3 and 4 for client frames, written out
 * independently of src/ so the property tests compare the decoder against the
 * contract rather than against itself.
 */

type Fields = Record<string, unknown>;

/** What a frame should decode to: the frame (known fields only), or a refusal. */
export type Expected =
  { ok: true; frame: Fields } | { ok: false; unknownType: boolean; id?: string };

const MAX_TOKEN = 8192;
export const MAX_DEPTH = 32;

const own = (f: Fields, key: string): unknown =>
  Object.prototype.hasOwnProperty.call(f, key) ? f[key] : undefined;

const isSeq = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

const isText = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.length >= 1 && v.length <= max;

/** Nesting depth of a JSON value: 0 for a scalar, 1 for a flat array or object. */
export function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  let deepest = 0;
  for (const child of children) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

export function expectedDecode(parsed: unknown): Expected {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, unknownType: false };
  }
  const f = parsed as Fields;
  const type = own(f, 'type');
  if (type === 'hello') {
    const token = own(f, 'token');
    const lastSeq = own(f, 'lastSeq');
    const epoch = own(f, 'epoch');
    if (token !== undefined && !isText(token, MAX_TOKEN)) return { ok: false, unknownType: false };
    if (lastSeq !== undefined && !isSeq(lastSeq)) return { ok: false, unknownType: false };
    if (epoch !== undefined && !isText(epoch, 64)) return { ok: false, unknownType: false };
    const frame: Fields = { type };
    if (token !== undefined) frame.token = token;
    if (lastSeq !== undefined) frame.lastSeq = lastSeq;
    if (epoch !== undefined) frame.epoch = epoch;
    return { ok: true, frame };
  }
  if (type === 'ack') {
    const seq = own(f, 'seq');
    return isSeq(seq) ? { ok: true, frame: { type, seq } } : { ok: false, unknownType: false };
  }
  if (type === 'publish') {
    const id = own(f, 'id');
    if (!isText(id, 128)) return { ok: false, unknownType: false };
    const threadId = own(f, 'threadId');
    const data = own(f, 'data');
    if (threadId !== undefined && !isText(threadId, 128)) {
      return { ok: false, unknownType: false, id };
    }
    if (data === undefined || depthOf(data) > MAX_DEPTH)
      return { ok: false, unknownType: false, id };
    const frame: Fields = { type, id, data };
    if (threadId !== undefined) frame.threadId = threadId;
    return { ok: true, frame };
  }
  return { ok: false, unknownType: true };
}
