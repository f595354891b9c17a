import { randomBytes } from 'node:crypto';

/**
 * A short key prefix unique to one test, e.g. `t-ingest-3f9a1c2b`. No braces (the
 * key layout adds hash tags itself) and no spaces. Non [A-Za-z0-9_-] characters
 * in the label become '-'.
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 24);
  return `t-${safe}-${randomBytes(4).toString('hex')}`;
}
