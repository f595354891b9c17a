import { UsageError } from './cli-args.js';
import { FleetClient, type FleetClientOptions } from './fleet-client.js';
import type { FleetConnection } from './fleet-connection.js';
import { SseFleetClient } from './sse-fleet-client.js';

export type FleetTransport = 'websocket' | 'sse';

export type { FleetConnection };

export function createFleetClient(
  transport: FleetTransport,
  options: FleetClientOptions,
): FleetConnection {
  return transport === 'sse' ? new SseFleetClient(options) : new FleetClient(options);
}

/** Reads `--transport websocket|sse`. */
export function parseTransport(value: unknown): FleetTransport {
  if (value === undefined || value === 'websocket' || value === 'ws') return 'websocket';
  if (value === 'sse') return 'sse';
  throw new UsageError(`--transport must be websocket or sse, not ${String(value)}`);
}
