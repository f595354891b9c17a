import { describe, expect, it } from 'vitest';
import { installGracefulStop, StopExitCode, type StopSteps } from '../src/graceful-stop.js';

interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  msg: string;
}

/** Records log lines and the exit code instead of exiting: the helper's logic alone. */
function harness(graceMs: number, stop: (steps: StopSteps) => Promise<void>) {
  const lines: LogLine[] = [];
  const log =
    (level: LogLine['level']) =>
    (fields: Record<string, unknown>, msg = ''): void => {
      lines.push({ level, fields: typeof fields === 'string' ? {} : fields, msg });
    };
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const exits: number[] = [];
  const handle = installGracefulStop({
    logger: { info: log('info'), warn: log('warn'), error: log('error') } as never,
    graceMs,
    signals: [],
    stop,
    exit: (code) => {
      exits.push(code);
      resolveExit(code);
    },
  });
  return { handle, lines, exited, exits };
}

const never = (): Promise<void> => new Promise(() => undefined);
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('installGracefulStop', () => {
  it('exits 0 when every step finishes', async () => {
    const h = harness(1000, async (steps) => {
      expect(await steps.run('quick', async () => 42, 500)).toBe(42);
    });
    h.handle.trigger('SIGTERM');
    expect(await h.exited).toBe(StopExitCode.clean);
    expect(h.lines.map((l) => l.msg)).toEqual(['stopping', 'stopped']);
  });

  it('gives up on a step after its timeout, goes on, and exits 3', async () => {
    const order: string[] = [];
    const h = harness(2000, async (steps) => {
      const startedAt = Date.now();
      expect(await steps.run('release leases', never, 100)).toBeUndefined();
      order.push(`timed out after ${Date.now() - startedAt >= 95 ? '>=' : '<'}100ms`);
      await steps.run('quit', async () => order.push('next step ran'));
    });
    h.handle.trigger('SIGTERM');
    expect(await h.exited).toBe(StopExitCode.stepsAbandoned);
    expect(order).toEqual(['timed out after >=100ms', 'next step ran']);
    const warning = h.lines.find((l) => l.msg.includes('timed out'));
    expect(warning?.fields).toMatchObject({ step: 'release leases', timeoutMs: 100 });
  });

  it('treats a step that throws like one given up on (exit 3), never as a crash', async () => {
    const h = harness(1000, async (steps) => {
      await steps.run('close queue', () => Promise.reject(new Error('Connection is closed.')));
    });
    h.handle.trigger('SIGINT');
    expect(await h.exited).toBe(StopExitCode.stepsAbandoned);
  });

  it('exits 124 at the deadline, naming the steps still pending', async () => {
    const h = harness(150, async (steps) => {
      await Promise.all([steps.run('drain connections', never), steps.run('inbox reader', never)]);
    });
    const startedAt = Date.now();
    h.handle.trigger('SIGTERM');
    expect(await h.exited).toBe(StopExitCode.deadline);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(145);
    const forced = h.lines.find((l) => l.level === 'error');
    expect(forced?.msg).toMatch(/deadline/);
    expect(forced?.fields.pending).toEqual(['drain connections', 'inbox reader']);
  });

  it('exits 130 at once on a second signal, and only once in all', async () => {
    const h = harness(5000, (steps) =>
      steps.run('close BullMQ worker', never).then(() => undefined),
    );
    h.handle.trigger('SIGTERM');
    await wait(10);
    expect(h.exits).toEqual([]);
    h.handle.trigger('SIGINT');
    expect(await h.exited).toBe(StopExitCode.repeatedSignal);
    h.handle.trigger('SIGTERM');
    expect(h.exits).toEqual([StopExitCode.repeatedSignal]);
    const line = h.lines.find((l) => l.msg.includes('second signal'));
    expect(line?.fields).toMatchObject({ signal: 'SIGINT', pending: ['close BullMQ worker'] });
  });

  it('exits 1 when the stop sequence itself throws', async () => {
    const h = harness(1000, async () => {
      throw new Error('bug');
    });
    h.handle.trigger('SIGTERM');
    expect(await h.exited).toBe(StopExitCode.failed);
  });

  it('budgets a fraction of the time left before the deadline', async () => {
    const budgets: number[] = [];
    const h = harness(1000, async (steps) => {
      budgets.push(steps.budgetMs(0.5));
      await wait(200);
      budgets.push(steps.budgetMs(0.5));
    });
    h.handle.trigger('SIGTERM');
    await h.exited;
    expect(budgets[0]).toBeGreaterThan(480);
    expect(budgets[0]).toBeLessThanOrEqual(500);
    expect(budgets[1]).toBeLessThanOrEqual(400);
    expect(budgets[1]).toBeGreaterThan(300);
  });
});
