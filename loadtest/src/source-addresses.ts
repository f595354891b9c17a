import { isIPv4 } from 'node:net';

/**
 * Client source addresses for many connections to one loopback server. One
 * (source IP, destination) pair has about 28k ephemeral ports
 * (ip_local_port_range 32768-60999), so fleets larger than that spread their
 * sockets over 127.0.0.2, 127.0.0.3, ...: every 127/8 address is local on Linux.
 * Returns undefined (let the kernel choose) when the target is not IPv4 loopback.
 */
export function sourceAddressPlan(
  targetHost: string,
  count: number,
): ((index: number) => string) | undefined {
  if (!isIPv4(targetHost) || !targetHost.startsWith('127.')) return undefined;
  if (!Number.isInteger(count) || count < 1 || count > 250) {
    throw new RangeError(`source address count must be 1..250, got ${count}`);
  }
  return (index) => `127.0.0.${2 + (index % count)}`;
}
