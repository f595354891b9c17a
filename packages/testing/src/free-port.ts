import { createServer } from 'node:net';

// Ports handed out recently by this process. Callers often pick several ports
// before anything binds them (a stack picks one per service), so the OS could
// hand the same ephemeral port out twice; remembering them rules that out.
const recentlyIssued = new Set<number>();
const RECENT_LIMIT = 4096;
const MAX_ATTEMPTS = 50;

function bindEphemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('getFreePort: server.address() returned no port'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out before. */
export async function getFreePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await bindEphemeralPort();
    if (recentlyIssued.has(port)) continue;
    recentlyIssued.add(port);
    if (recentlyIssued.size > RECENT_LIMIT) {
      // Sets iterate in insertion order: drop the oldest entry.
      const oldest = recentlyIssued.values().next().value;
      if (oldest !== undefined) recentlyIssued.delete(oldest);
    }
    return port;
  }
  throw new Error(`getFreePort: no new free port after ${MAX_ATTEMPTS} attempts`);
}
