import type { Logger } from '@agentwire/telemetry';
import { describe, expect, it } from 'vitest';
import { warnThrottled } from '../src/log-throttle.js';

function recordingLogger(): { logger: Logger; lines: Array<[unknown, string]> } {
  const lines: Array<[unknown, string]> = [];
  const logger = { warn: (fields: unknown, message: string) => lines.push([fields, message]) };
  return { logger: logger as unknown as Logger, lines };
}

describe('warnThrottled', () => {
  it('logs a message once per interval and reports how many repeats it left out', () => {
    const { logger, lines } = recordingLogger();
    for (let t = 0; t < 100; t++) warnThrottled(logger, { n: t }, 'closeSession failed', 5000, t);
    warnThrottled(logger, { n: 'late' }, 'closeSession failed', 5000, 5000);
    expect(lines).toEqual([
      [{ n: 0 }, 'closeSession failed'],
      [{ n: 'late', suppressed: 99 }, 'closeSession failed'],
    ]);
  });

  it('throttles each message on its own', () => {
    const { logger, lines } = recordingLogger();
    warnThrottled(logger, {}, 'a', 5000, 0);
    warnThrottled(logger, {}, 'b', 5000, 1);
    warnThrottled(logger, {}, 'a', 5000, 2);
    expect(lines.map(([, message]) => message)).toEqual(['a', 'b']);
  });
});
