import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from './cli-args.js';

/** True for localhost, 127.0.0.0/8 and ::1 (with or without URL brackets). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true;
  if (isIPv4(lower)) return lower.startsWith('127.');
  if (isIPv6(lower))
    return lower === '::1' || lower === '0:0:0:0:0:0:0:1' || lower.startsWith('::ffff:127.');
  return false;
}

/** Thrown when a benchmark is pointed at a non-loopback host without --allow-remote (or at no URL at all). */
export class RemoteTargetError extends UsageError {
  override readonly name: string = 'RemoteTargetError';
}

/**
 * Parses a target base URL (http/https/ws/wss) and refuses hosts off this
 * machine unless explicitly allowed: load tools aimed at the wrong host are a
 * denial of service.
 */
export function checkTarget(target: string, allowRemote: boolean): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new RemoteTargetError(`not a URL: ${JSON.stringify(target)}`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new RemoteTargetError(`unsupported scheme ${url.protocol} in ${target}`);
  }
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new RemoteTargetError(
      `${url.hostname} is not a loopback address; pass --allow-remote to load a remote deployment`,
    );
  }
  return url;
}

/** The WebSocket endpoint (`/v1/ws`) of an edge given its HTTP base URL. */
export function wsUrlOf(httpBase: URL): string {
  const ws = new URL(httpBase.href);
  ws.protocol = httpBase.protocol === 'https:' || httpBase.protocol === 'wss:' ? 'wss:' : 'ws:';
  ws.pathname = '/v1/ws';
  ws.search = '';
  return ws.href;
}

/** The HTTP base (`http://host:port`) of a target given as http(s) or ws(s). */
export function httpBaseOf(target: URL): string {
  const protocol = target.protocol === 'wss:' || target.protocol === 'https:' ? 'https:' : 'http:';
  return `${protocol}//${target.host}`;
}
