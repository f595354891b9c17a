import { connect } from 'node:net';

/**
 * Sends one command to a Redis on 127.0.0.1:`port` over a fresh connection and
 * returns the reply as text (simple string, bulk string or integer). An error
 * reply (-LOADING, -ERR ...) rejects. Used only to probe readiness, where a
 * full client with retry logic would hide the state we are waiting for.
 */
export function redisProbe(port: number, args: string[], timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | null, value?: string): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(value ?? '');
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`redis probe on port ${port} timed out`)));
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`redis on port ${port} closed the connection`)));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const reply = parseReply(buffer);
      if (reply === undefined) return;
      if (reply.error) finish(new Error(reply.text));
      else finish(null, reply.text);
    });
    socket.once('connect', () => {
      const parts = [`*${args.length}\r\n`];
      for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
      socket.write(parts.join(''));
    });
  });
}

/** Parses one RESP2 reply; undefined when more bytes are needed. */
function parseReply(buffer: Buffer): { error: boolean; text: string } | undefined {
  const lineEnd = buffer.indexOf('\r\n');
  if (lineEnd < 0) return undefined;
  const kind = String.fromCharCode(buffer[0] ?? 0);
  const head = buffer.subarray(1, lineEnd).toString();
  switch (kind) {
    case '+':
    case ':':
      return { error: false, text: head };
    case '-':
      return { error: true, text: head };
    case '$': {
      const length = Number(head);
      if (length < 0) return { error: false, text: '' };
      const start = lineEnd + 2;
      if (buffer.length < start + length + 2) return undefined;
      return { error: false, text: buffer.subarray(start, start + length).toString() };
    }
    default:
      return { error: true, text: `unexpected reply type ${JSON.stringify(kind)}` };
  }
}
