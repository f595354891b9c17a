import type { Transport } from '../../src/index.js';

/**
 * What the demo page reads from its URL hash:
 * `#token=<jwt>&urls=<ws urls, comma separated>&transport=<websocket|sse|auto>`.
 */
export interface DemoConfig {
  token: string | undefined;
  urls: string[];
  /** `replay=1`: resume from seq 0 (everything retained) instead of starting live. */
  replay: boolean;
  /** The page's transport switch. @default 'websocket' */
  transport: Transport;
}

const TRANSPORTS: readonly Transport[] = ['websocket', 'sse', 'auto'];

export function readDemoConfig(location: Location): DemoConfig {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token')?.trim() || undefined;
  const urls = (params.get('urls') ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  if (urls.length === 0) {
    // Same host as the page: the edge serves the demo and the WebSocket side by side.
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    urls.push(`${scheme}//${location.host}/v1/ws`);
  }
  const transport = TRANSPORTS.find((t) => t === params.get('transport')) ?? 'websocket';
  return { token, urls, replay: params.get('replay') === '1', transport };
}
