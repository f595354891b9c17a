/** The HTTP endpoints of one edge (protocol.md section 10), derived from its WebSocket URL. */
export interface SseEndpoints {
  stream: string;
  ack: string;
  publish: string;
  /** GET it with the run id appended (URL-encoded) for the run's snapshot. */
  runs: string;
}

/**
 * `ws://host/v1/ws` -> `http://host/v1/sse` (and `/v1/ack`, `/v1/publish`,
 * `/v1/runs/`);
 * `wss` -> `https`. An http(s) URL is taken as the edge's base (a trailing
 * `/v1/sse` or `/v1/ws` is dropped), so a client configured for SSE only may
 * be given `https://events.example.com`.
 */
export function sseEndpoints(url: string): SseEndpoints {
  const parsed = new URL(url);
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  const base = parsed.pathname.replace(/\/v1\/(ws|sse)\/?$/, '').replace(/\/$/, '');
  const at = (path: string): string => {
    const endpoint = new URL(parsed.href);
    endpoint.pathname = `${base}${path}`;
    endpoint.search = '';
    endpoint.hash = '';
    return endpoint.href;
  };
  return {
    stream: at('/v1/sse'),
    ack: at('/v1/ack'),
    publish: at('/v1/publish'),
    runs: at('/v1/runs/'),
  };
}
