/** CRC16-CCITT (XMODEM) table, the checksum Redis Cluster hashes keys with. */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  TABLE[i] = crc & 0xffff;
}

/**
 * The Redis Cluster slot of a key: CRC16 of its hash tag (the part between
 * the first `{` and the next `}`, when not empty) or of the whole key, mod 16384.
 */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(hashed, 'utf8');
  let crc = 0;
  for (const byte of bytes)
    crc = ((crc << 8) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number)) & 0xffff;
  return crc % 16384;
}
