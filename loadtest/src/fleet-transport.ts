import { UsageError } from './cli-args.js';
import { FleetClient, type FleetClientOptions } from './fleet-client.js';
import { SseFleetClient } from './sse-fleet-client.js';

export type FleetTransport = 'websocket' | 'sse';

/** What the fleet runner and the idle probe use of a connection, whatever its transport. */
export type FleetConnection = Pick<
  FleetClient,
  | 'ledger'
  | 'nonCriticalLedger'
  | 'unexpectedCloses'
  | 'reconnects'
  | 'nonCritical'
  | 'resyncs'
  | 'userId'
  | 'isOpen'
  | 'connect'
  | 'flushAck'
  | 'close'
>;

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
