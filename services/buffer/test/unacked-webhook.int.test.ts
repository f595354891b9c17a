import { createServer, type Server } from 'node:http';
import {
  type Stack,
  TestWsClient,
  getFreePort,
  sleep,
  startStack,
  waitUntil,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Report {
  id: string;
  userId: string;
  fromSeq: number;
  toSeq: number;
  events: Array<{ seq: number; id: string }>;
}

describe('webhook for critical events no connection acknowledged', () => {
  let stack: Stack;
  let receiver: Server;
  const reports: Report[] = [];

  beforeAll(async () => {
    const port = await getFreePort();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        reports.push(JSON.parse(body) as Report);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
    stack = await startStack({
      edges: 1,
      buffers: 1,
      env: {
        UNACKED_WEBHOOK_URL: `http://127.0.0.1:${port}/unacked`,
        UNACKED_AFTER_MS: '600',
        UNACKED_CHECK_MS: '200',
        // Acked positions reach Redis well within UNACKED_AFTER_MS.
        ACK_FLUSH_MS: '100',
      },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const critical = (userId: string, id: string) => ({ id, userId, name: 'tool_executing' });

  it('reports events nobody acknowledged once, and nothing for a user whose client acked', async () => {
    // A user who acknowledges everything it receives.
    const client = await TestWsClient.connect(stack.edges[0]?.wsUrl as string);
    await client.hello(await stack.token('acking'), { lastSeq: 0 });
    expect((await stack.ingest([critical('acking', 'a1'), critical('acking', 'a2')])).status).toBe(
      202,
    );
    await client.waitForEvents(2);
    client.send({ type: 'ack', seq: 2 });

    // A user with no connection at all.
    expect((await stack.ingest([critical('away', 'w1'), critical('away', 'w2')])).status).toBe(202);

    await waitUntil(() => reports.some((r) => r.userId === 'away'), 5000);
    const away = reports.filter((r) => r.userId === 'away');
    expect(away).toHaveLength(1);
    expect(away[0]).toMatchObject({ fromSeq: 1, toSeq: 2 });
    expect(away[0]?.events.map((e) => [e.seq, e.id])).toEqual([
      [1, 'w1'],
      [2, 'w2'],
    ]);

    // Several more checks pass: still one report, and none for the acking user.
    await sleep(1500);
    expect(reports.filter((r) => r.userId === 'away')).toHaveLength(1);
    expect(reports.filter((r) => r.userId === 'acking')).toHaveLength(0);
    await client.close();
  }, 30_000);
});
