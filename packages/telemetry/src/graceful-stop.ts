import type { Logger } from 'pino';

/**
 * Exit codes of a process stopped by SIGTERM or SIGINT (docs/operations.md).
 * A supervisor can tell a clean stop from one that left work to expire on
 * its own (leases, routes) and from one that was cut short.
 */
export const StopExitCode = {
  /** Every step of the stop finished. */
  clean: 0,
  /** The stop sequence itself threw (a bug); what it was doing is logged. */
  failed: 1,
  /**
   * Stopped before the deadline, but gave up on at least one step (Redis did
   * not answer in time); what it left behind expires on its own.
   */
  stepsAbandoned: 3,
  /** The deadline passed with steps still pending (listed in the log): forced exit. */
  deadline: 124,
  /** A second SIGTERM or SIGINT arrived during the stop: exited at once. */
  repeatedSignal: 130,
} as const;
export type StopExitCode = (typeof StopExitCode)[keyof typeof StopExitCode];

/** What a stop sequence uses to name (and bound) the things it waits for. */
export interface StopSteps {
  /**
   * Waits for `work`, listed as pending under `name` meanwhile (the forced
   * exit logs what is still pending). With `timeoutMs`, gives up after that
   * long: logs it, marks the stop as incomplete (exit code 3) and resolves
   * `undefined` while the work goes on in the background. A step that throws
   * is logged and also marks the stop incomplete; it never aborts the stop.
   */
  run<T>(name: string, work: () => Promise<T>, timeoutMs?: number): Promise<T | undefined>;
  /** Milliseconds left before the forced exit. */
  remainingMs(): number;
  /** `fraction` of the time left before the forced exit: a bound for the next step. */
  budgetMs(fraction: number): number;
}

export interface GracefulStopOptions {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Deadline from the first signal to the forced exit. The timer is not unref'd: it fires. */
  graceMs: number;
  /** The stop sequence: resolves once everything is closed; the process then exits. */
  stop: (steps: StopSteps, signal: NodeJS.Signals) => Promise<void>;
  /** @default ['SIGTERM', 'SIGINT'] */
  signals?: readonly NodeJS.Signals[];
  /** @default process.exit */
  exit?: (code: StopExitCode) => void;
}

export interface GracefulStop {
  /** True once a stop began. */
  readonly stopping: boolean;
  /** Starts the stop as the first signal would (or exits at once when already stopping). */
  trigger(signal: NodeJS.Signals): void;
}

/**
 * Installs the stop of a long-running process: the first SIGTERM or SIGINT
 * runs `stop` raced against a deadline; when the deadline passes first, the
 * process logs the steps still pending and exits 124. A second signal during
 * the stop exits 130 at once. Every step that waits on Redis should be
 * bounded (timeoutMs) so the graceful path never depends on Redis answering:
 * the deadline is the backstop for whatever was not.
 */
export function installGracefulStop(options: GracefulStopOptions): GracefulStop {
  const { logger } = options;
  const exit = options.exit ?? ((code: StopExitCode) => process.exit(code));
  const pending = new Map<number, string>();
  let nextStepId = 0;
  let stopping = false;
  let exited = false;
  let incomplete = false;
  let startedAt = 0;
  let deadline: NodeJS.Timeout | undefined;

  const finish = (code: StopExitCode): void => {
    if (exited) return;
    exited = true;
    clearTimeout(deadline);
    for (const signal of signals) process.off(signal, onSignal);
    exit(code);
  };
  const pendingNames = (): string[] => [...pending.values()];

  const steps: StopSteps = {
    remainingMs: () => Math.max(0, startedAt + options.graceMs - Date.now()),
    budgetMs: (fraction) => Math.floor(steps.remainingMs() * fraction),
    async run<T>(name: string, work: () => Promise<T>, timeoutMs?: number) {
      const id = nextStepId++;
      pending.set(id, name);
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => {
        if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const running = work();
      try {
        const outcome = await Promise.race([running.then((value) => ({ value })), gaveUp]);
        if (outcome === 'timeout') {
          incomplete = true;
          running.catch(() => undefined); // settles later, usually on disconnect()
          logger.warn({ step: name, timeoutMs }, 'stop step timed out; going on without it');
          return undefined;
        }
        return outcome.value;
      } catch (error) {
        incomplete = true;
        logger.warn({ err: error, step: name }, 'stop step failed; going on');
        return undefined;
      } finally {
        clearTimeout(timer);
        pending.delete(id);
      }
    },
  };

  const begin = (signal: NodeJS.Signals): void => {
    stopping = true;
    startedAt = Date.now();
    logger.info({ signal, graceMs: options.graceMs }, 'stopping');
    deadline = setTimeout(() => {
      logger.error(
        { graceMs: options.graceMs, pending: pendingNames() },
        'stop deadline passed; exiting with steps still pending',
      );
      finish(StopExitCode.deadline);
    }, options.graceMs);
    options.stop(steps, signal).then(
      () => {
        const elapsedMs = Date.now() - startedAt;
        if (incomplete) {
          logger.warn({ elapsedMs }, 'stopped; some steps were given up');
          finish(StopExitCode.stepsAbandoned);
        } else {
          logger.info({ elapsedMs }, 'stopped');
          finish(StopExitCode.clean);
        }
      },
      (error: unknown) => {
        logger.error({ err: error, pending: pendingNames() }, 'stop failed');
        finish(StopExitCode.failed);
      },
    );
  };

  const trigger = (signal: NodeJS.Signals): void => {
    if (exited) return;
    if (!stopping) return begin(signal);
    logger.warn({ signal, pending: pendingNames() }, 'second signal during stop; exiting now');
    finish(StopExitCode.repeatedSignal);
  };
  const onSignal = (signal: NodeJS.Signals): void => trigger(signal);
  const signals = options.signals ?? (['SIGTERM', 'SIGINT'] as const);
  for (const signal of signals) process.on(signal, onSignal);

  return {
    get stopping() {
      return stopping;
    },
    trigger,
  };
}
