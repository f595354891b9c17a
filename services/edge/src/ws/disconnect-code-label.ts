import { CloseCode } from '@agentwire/protocol';

/** Close codes worth their own label; a peer can send any code, so the rest share one. */
const knownCodes: ReadonlySet<number> = new Set<number>([
  1000,
  1001,
  1005,
  1006,
  1009,
  1011,
  ...Object.values(CloseCode),
]);

/** The `code` label of aw_edge_disconnects_total, bounded in cardinality. */
export function disconnectCodeLabel(code: number): string {
  return knownCodes.has(code) ? String(code) : 'other';
}
