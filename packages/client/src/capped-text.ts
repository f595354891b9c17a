/** A stream's text and whether it was cut at the client's limit (or the server's). */
export interface CappedText {
  text: string;
  truncated: boolean;
}

/**
 * `text` cut to at most `max` UTF-16 code units, never between the two halves
 * of a surrogate pair. Lengths, not UTF-8 bytes: counting bytes would encode
 * every append on the hot path.
 */
export function capText(text: string, max: number): CappedText {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // A high surrogate whose partner is cut off.
  return { text: text.slice(0, end), truncated: true };
}

/**
 * Adds an append to a stream's text. A truncated stream keeps its start only
 * (as the server's snapshot does): its later appends add nothing, else the
 * text would have a hole where the cut part was.
 */
export function appendCapped(current: CappedText, append: string, max: number): CappedText {
  if (current.truncated || append === '') return current;
  return capText(current.text + append, max);
}
