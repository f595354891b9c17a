import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The one logger factory: JSON lines to stdout, a `service` and `instance`
 * on every line. Hot paths never log per event; they count in metrics.
 */
export function createLogger(options: {
  service: string;
  instance: string;
  level: string;
}): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
