import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startStack, type Stack } from '@agentwire/testing';
import {
  agentRunScript,
  freshUserId,
  ingestOk,
  range,
  runEvents,
  tokenDelta,
  type AgentRunScript,
} from './stack-client.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const WAIT_MS = 15_000;

interface Received {
  seq: number;
  name: string;
  runId?: string;
}

/** The demo page, as the test drives it. */
async function openDemo(
  context: BrowserContext,
  stack: Stack,
  userId: string,
  hashUrls?: string[],
  transport?: 'sse',
): Promise<Page> {
  const token = await stack.token(userId);
  const page = await context.newPage();
  const urls = hashUrls === undefined ? '' : `&urls=${hashUrls.join(',')}`;
  const how = transport === undefined ? '' : `&transport=${transport}`;
  await page.goto(`${stack.edges[0]!.url}/demo/#token=${token}${urls}${how}`);
  await page.waitForSelector('[data-testid=state][data-state=connected]', { timeout: WAIT_MS });
  return page;
}

function received(page: Page): Promise<Received[]> {
  return page.evaluate(() => window.__agentwire?.received ?? []);
}

const RUN_TEXTS = {
  thinking: 'The user wants to know what survives a reload. Checking the run store first.',
  answer:
    'Every token of this answer reaches the page exactly once, in order — across a dropped ' +
    'connection 🔌 and a reload 🔄 alike, because the snapshot after each welcome carries ' +
    'the text so far and the chunk numbers say where live appends continue.',
};

/**
 * Streams a run to the page's user the way the demo agent does, token by
 * token; `midAnswer` runs once the page shows half of the answer, and the
 * rest of the answer is streamed while it takes effect. `beforeEnd` runs
 * before agent_completed.
 */
async function streamRun(
  stack: Stack,
  page: Page,
  script: AgentRunScript,
  hooks: { midAnswer: () => Promise<void>; beforeEnd?: () => Promise<void> },
): Promise<void> {
  await ingestOk(stack, [script.started]);
  for (const token of script.thinking) await ingestOk(stack, [token]);
  const half = Math.floor(script.answer.length / 2);
  for (const [i, token] of script.answer.entries()) {
    if (i === half) {
      await page.waitForFunction(
        ({ runId, chunks }) =>
          (window.__agentwire?.client.getRun(runId)?.streams.answer?.chunks ?? 0) >= chunks,
        { runId: script.runId, chunks: half },
        { timeout: WAIT_MS },
      );
      await hooks.midAnswer();
    }
    await ingestOk(stack, [token]);
  }
  await hooks.beforeEnd?.();
  await ingestOk(stack, [script.completed]);
}

/** Waits until the page shows the run ended, then checks its texts are the agent's, exactly. */
async function expectRunShownExactly(page: Page, runId: string): Promise<void> {
  const card = page.locator(`[data-testid=run][data-run-id="${runId}"]`);
  // Ended and not waiting for a snapshot: the run store's final state.
  await page
    .locator(`[data-testid=run][data-run-id="${runId}"][data-status=ended][data-syncing=false]`)
    .waitFor({ timeout: WAIT_MS })
    .catch(async (error: unknown) => {
      // Say where the page's run store stopped, not only that it did.
      const state = await page.evaluate(
        (id) => ({
          run: window.__agentwire?.client.getRun(id),
          transport: window.__agentwire?.client.transport,
          received: window.__agentwire?.received.length,
        }),
        runId,
      );
      throw new Error(`${String(error)}\npage state: ${JSON.stringify(state)}`);
    });
  expect({
    status: await card.locator('[data-testid=run-status]').getAttribute('data-status'),
    thinking: await card.locator('[data-testid=run-thinking]').textContent(),
    answer: await card.locator('[data-testid=run-answer]').textContent(),
  }).toEqual({ status: 'ended', ...RUN_TEXTS });
}

/** Polls GET /v1/runs/{runId} as the user until the run store says the run ended. */
async function waitForRunEnded(stack: Stack, userId: string, runId: string): Promise<void> {
  const token = await stack.token(userId);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const res = await fetch(`${stack.edges[0]!.url}/v1/runs/${encodeURIComponent(runId)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await res.json()) as { status?: string };
    if (body.status === 'ended') return;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not end: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Publishes `text` with the page's form; its settled status and, on failure, the server's message. */
async function publishFromPage(
  page: Page,
  text: string,
): Promise<{ status: string | null; detail: string | null }> {
  await page.fill('[data-testid=publish-text]', text);
  await page.click('[data-testid=publish-submit]');
  const status = await page.waitForSelector(
    '[data-testid=publish-status]:not([data-status=pending])',
    { timeout: WAIT_MS },
  );
  return {
    status: await status.getAttribute('data-status'),
    detail: await status.getAttribute('title'),
  };
}

async function waitForReceived(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => (window.__agentwire?.received.length ?? 0) >= n, count, {
    timeout: WAIT_MS,
  });
}

describe('demo page in Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    // The page under test is the one this package builds.
    await promisify(execFile)(process.execPath, [
      join(repoRoot(), 'packages/client/scripts/build-demo.mjs'),
    ]);
    stack = await startStack({
      edges: 2,
      env: { DEMO_DIR: join(repoRoot(), 'packages/client/demo/dist') },
    });
    // playwright gives the browser a fresh temporary profile of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    context = await browser.newContext();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows the run timeline, streams tokens and publishes upstream', async () => {
    const userId = freshUserId('demo');
    // No urls in the hash: the page connects to /v1/ws on its own host.
    const page = await openDemo(context, stack, userId);
    expect(await page.textContent('[data-testid=node]')).toBe('edge-0');

    const run = runEvents(userId, 'run-a', 4);
    await ingestOk(stack, [
      run[0]!,
      tokenDelta(userId, 'run-a', 'Looking '),
      tokenDelta(userId, 'run-a', 'it up.'),
      ...run.slice(1),
    ]);
    await waitForReceived(page, 4);
    expect(await received(page)).toEqual(
      run.map((e, i) => ({ seq: i + 1, name: e.name, runId: 'run-a' })),
    );
    await page.waitForSelector('[data-testid=last-seq]:text-is("4")', { timeout: WAIT_MS });
    const runCard = page.locator('[data-testid=run][data-run-id=run-a]');
    expect(await runCard.locator('[data-testid=run-stream]').textContent()).toBe('Looking it up.');
    expect(await runCard.locator('[data-testid=timeline-event]').count()).toBe(4);

    expect(await publishFromPage(page, 'What did you find?')).toMatchObject({ status: 'accepted' });
    await page.close();
  });

  it("shows a run's appended text, its thinking apart from its answer", async () => {
    const userId = freshUserId('demo-append');
    const page = await openDemo(context, stack, userId);
    const append = (id: string, stream: string, text: string) => ({
      id: `${userId}-${id}`,
      userId,
      name: 'token',
      runId: 'run-t',
      stream,
      append: text,
    });
    const [started, completed] = runEvents(userId, 'run-t', 2);
    await ingestOk(stack, [
      started!,
      append('t1', 'thinking', 'Looking it up.'),
      append('a1', 'answer', 'Ça marche '),
      append('a2', 'answer', '🚀.'),
      completed!,
    ]);
    await waitForReceived(page, 2);
    const runCard = page.locator('[data-testid=run][data-run-id=run-t]');
    expect(await runCard.locator('[data-testid=run-thinking]').textContent()).toBe(
      'Looking it up.',
    );
    expect(await runCard.locator('[data-testid=run-answer]').textContent()).toBe('Ça marche 🚀.');
    await page.close();
  });

  it('resumes after "Drop connection" without losing or repeating events', async () => {
    const userId = freshUserId('demo-drop');
    const page = await openDemo(
      context,
      stack,
      userId,
      stack.edges.map((e) => e.wsUrl),
    );
    await ingestOk(stack, runEvents(userId, 'run-1', 3));
    await waitForReceived(page, 3);

    await page.click('[data-testid=drop]');
    await ingestOk(stack, runEvents(userId, 'run-2', 4), 1);
    await waitForReceived(page, 7);
    await page.waitForSelector('[data-testid=state][data-state=connected]', { timeout: WAIT_MS });
    expect((await received(page)).map((r) => r.seq)).toEqual(range(1, 7));
    await page.close();
  });

  it("streams over SSE with the browser's EventSource (transport switch), drops and resumes exactly once", async () => {
    const userId = freshUserId('demo-sse');
    const page = await context.newPage();
    // Count what the page opens: the SSE transport must use EventSource, never a WebSocket.
    await page.addInitScript(() => {
      const counts = { eventSources: 0, webSockets: 0 };
      (window as unknown as { __transportCounts: typeof counts }).__transportCounts = counts;
      const NativeEventSource = window.EventSource;
      const NativeWebSocket = window.WebSocket;
      window.EventSource = class extends NativeEventSource {
        constructor(url: string | URL, init?: EventSourceInit) {
          super(url, init);
          counts.eventSources++;
        }
      };
      window.WebSocket = class extends NativeWebSocket {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          counts.webSockets++;
        }
      };
    });
    const token = await stack.token(userId);
    const urls = stack.edges.map((e) => e.wsUrl).join(',');
    await page.goto(`${stack.edges[0]!.url}/demo/#token=${token}&urls=${urls}&transport=sse`);
    await page.waitForSelector('[data-testid=state][data-state=connected]', { timeout: WAIT_MS });
    expect(await page.inputValue('[data-testid=transport]')).toBe('sse');

    await ingestOk(stack, runEvents(userId, 'run-1', 3));
    await waitForReceived(page, 3);
    await page.click('[data-testid=drop]');
    await ingestOk(stack, runEvents(userId, 'run-2', 4), 1);
    await waitForReceived(page, 7);
    await page.waitForSelector('[data-testid=state][data-state=connected]', { timeout: WAIT_MS });
    await ingestOk(stack, runEvents(userId, 'run-3', 2));
    await waitForReceived(page, 9);
    expect((await received(page)).map((r) => r.seq)).toEqual(range(1, 9));
    const counts = await page.evaluate(
      () =>
        (window as unknown as { __transportCounts: { eventSources: number; webSockets: number } })
          .__transportCounts,
    );
    expect(counts.webSockets).toBe(0);
    expect(counts.eventSources).toBeGreaterThanOrEqual(2);

    // The switch: back to WebSocket, through the page's own control.
    await page.selectOption('[data-testid=transport]', 'websocket');
    await page.waitForSelector('[data-testid=state][data-state=connected]', { timeout: WAIT_MS });
    expect(await page.evaluate(() => window.__agentwire?.client.transport)).toBe('websocket');
    await page.close();
  });

  it('grows the answer token by token and keeps it exact across "Drop connection" mid-answer', async () => {
    const userId = freshUserId('demo-run-drop');
    const page = await openDemo(
      context,
      stack,
      userId,
      stack.edges.map((e) => e.wsUrl),
    );
    const script = agentRunScript(userId, 'run-drop', RUN_TEXTS);
    // Every answer length the page's run store went through.
    await page.evaluate(() => {
      const chunks: number[] = [];
      (window as unknown as { __answerChunks: number[] }).__answerChunks = chunks;
      window.__agentwire?.client.on('run', (run) => {
        chunks.push(run.streams.answer?.chunks ?? 0);
      });
    });
    await streamRun(stack, page, script, {
      midAnswer: () => page.click('[data-testid=drop]'),
    });
    await expectRunShownExactly(page, script.runId);
    // Before the drop the answer grew one token at a time.
    const chunks = await page.evaluate(
      () => (window as unknown as { __answerChunks: number[] }).__answerChunks,
    );
    expect([...new Set(chunks.filter((n) => n > 0))].slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(await page.evaluate(() => window.__agentwire?.client.getRun('run-drop')?.syncing)).toBe(
      false,
    );
    await page.close();
  });

  it('restores the answer so far after a reload mid-answer and finishes it exactly', async () => {
    const userId = freshUserId('demo-run-reload');
    const page = await openDemo(context, stack, userId);
    const script = agentRunScript(userId, 'run-reload', RUN_TEXTS);
    await streamRun(stack, page, script, {
      // The rest of the answer streams while the page loads anew.
      midAnswer: async () => {
        await page.reload();
      },
      // Only a run still going gets a snapshot after the welcome: end it once the page is back.
      beforeEnd: async () => {
        await page.waitForSelector('[data-testid=state][data-state=connected]', {
          timeout: WAIT_MS,
        });
      },
    });
    await expectRunShownExactly(page, script.runId);
    await page.close();
  });

  it('keeps the answer exact over SSE across a drop mid-answer', async () => {
    const userId = freshUserId('demo-run-sse');
    const urls = stack.edges.map((e) => e.wsUrl);
    const page = await openDemo(context, stack, userId, urls, 'sse');
    const script = agentRunScript(userId, 'run-sse', RUN_TEXTS);
    await streamRun(stack, page, script, {
      midAnswer: () => page.click('[data-testid=drop]'),
    });
    await expectRunShownExactly(page, script.runId);
    await page.close();
  });

  it('over SSE, reads a run that ended while the page was reconnecting, acks and publishes over HTTP', async () => {
    const userId = freshUserId('demo-run-sse-away');
    const page = await openDemo(
      context,
      stack,
      userId,
      stack.edges.map((e) => e.wsUrl),
      'sse',
    );
    // Holds the page's next stream until the run has ended, so no snapshot
    // follows the welcome: the text can only come from GET /v1/runs/{runId}.
    let release = (): void => undefined;
    const away = new Promise<void>((resolve) => (release = resolve));
    const script = agentRunScript(userId, 'run-sse-away', RUN_TEXTS);
    await streamRun(stack, page, script, {
      midAnswer: async () => {
        await page.route('**/v1/sse*', async (route) => {
          await away;
          await route.continue();
        });
        await page.click('[data-testid=drop]');
      },
    });
    await waitForRunEnded(stack, userId, script.runId);
    const answered = (path: string) =>
      page.waitForResponse((r) => r.url().includes(path), { timeout: WAIT_MS });
    const runRead = answered('/v1/runs/');
    // Acks over SSE are POSTs from the page too (one a second at most).
    const ackAnswer = answered('/v1/ack');
    release();
    const [runResponse, ackResponse] = await Promise.all([runRead, ackAnswer]);
    expect(runResponse.status()).toBe(200);
    expect(ackResponse.ok()).toBe(true);
    await expectRunShownExactly(page, script.runId);
    expect(await publishFromPage(page, 'Thanks')).toMatchObject({ status: 'accepted' });
    await page.close();
  });

  it("moves to the other edge when the page's edge is killed", async () => {
    const userId = freshUserId('demo-kill');
    const page = await openDemo(
      context,
      stack,
      userId,
      stack.edges.map((e) => e.wsUrl),
    );
    const node = (await page.textContent('[data-testid=node]')) ?? '';
    const victim = Number(node.replace('edge-', ''));
    const survivor = 1 - victim;
    await ingestOk(stack, runEvents(userId, 'run-1', 2), survivor);
    await waitForReceived(page, 2);

    await stack.edges[victim]!.kill();
    await ingestOk(stack, runEvents(userId, 'run-2', 3), survivor);
    await waitForReceived(page, 5);
    expect((await received(page)).map((r) => r.seq)).toEqual(range(1, 5));
    expect(await page.textContent('[data-testid=node]')).toBe(`edge-${survivor}`);
    await page.close();
  });
});
