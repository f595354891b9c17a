import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Hostname plus a random suffix: unique per process start, readable in logs. */
export function defaultInstanceId(): string {
  return `${hostname()}-${randomBytes(3).toString('hex')}`;
}

export const instanceIdPattern = /^[A-Za-z0-9._-]{1,64}$/;
