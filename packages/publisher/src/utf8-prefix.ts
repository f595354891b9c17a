/**
 * UTF-16 length of the longest prefix of `text` whose UTF-8 encoding takes at
 * most `maxBytes`, never ending between the two halves of a surrogate pair.
 * Counts the way Buffer.byteLength does for well-formed text.
 */
export function utf8PrefixLength(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const unit = text.charCodeAt(i);
    let size = 3;
    let width = 1;
    if (unit < 0x80) size = 1;
    else if (unit < 0x800) size = 2;
    else if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(i + 1))) {
      size = 4;
      width = 2;
    }
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += width;
  }
  return i;
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
