/** Kinds of agentwire keys, as the memory probe groups them (see packages/redis/src/key-layout.ts). */
export type KeyKind =
  | 'run-hash'
  | 'run-text'
  | 'user-runs'
  | 'shard-running'
  | 'dedupe'
  | 'ingest'
  | `user-${string}`
  | `shard-${string}`
  | `node-${string}`
  | 'jobs'
  | 'other';

/**
 * The kind of a key `<prefix>:{sN}:...` (shard keys), `<prefix>:{n:id}:...`
 * (node keys) or another hash tag (the BullMQ queues of the jobs), from its
 * tag and what follows it.
 */
export function keyKindOf(key: string): KeyKind {
  const match = /\{([^}]*)\}:(.*)$/s.exec(key);
  if (!match) return 'other';
  const tag = match[1] as string;
  const rest = match[2] as string;
  if (tag.startsWith('n:')) return `node-${rest}`;
  if (!/^s\d+$/.test(tag)) return 'jobs';
  if (rest.startsWith('r|')) return 'run-hash';
  if (rest.startsWith('t|')) return 'run-text';
  if (rest.startsWith('runs|')) return 'user-runs';
  if (rest === 'running') return 'shard-running';
  if (rest.startsWith('d:')) return 'dedupe';
  if (rest === 'ingest') return 'ingest';
  if (rest.startsWith('u:')) return `user-${rest.slice(rest.lastIndexOf(':') + 1)}`;
  return `shard-${rest}`;
}
