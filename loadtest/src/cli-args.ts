import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

type Values = Record<string, string | boolean | undefined>;

/** node:util parseArgs in strict mode, with `--help` and errors turned into UsageError. */
export function parseCli(
  options: NonNullable<ParseArgsConfig['options']>,
  argv = process.argv.slice(2),
): Values {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values as Values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** A number option within [min, max]; `integer` rejects fractions. */
export function numberArg(
  values: Values,
  name: string,
  fallback: number,
  bounds: { min: number; max: number; integer?: boolean },
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`--${name} expects a number, got ${JSON.stringify(raw)}`);
  }
  if ((bounds.integer ?? true) && !Number.isInteger(value)) {
    throw new UsageError(`--${name} expects an integer, got ${raw}`);
  }
  if (value < bounds.min || value > bounds.max) {
    throw new UsageError(`--${name} must be within ${bounds.min}..${bounds.max}, got ${raw}`);
  }
  return value;
}

/** A comma-separated list of numbers, each within bounds; `none` is the empty list. */
export function numberListArg(
  values: Values,
  name: string,
  fallback: number[],
  bounds: { min: number; max: number; integer?: boolean },
): number[] {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string') throw new UsageError(`--${name} expects a comma-separated list`);
  if (raw === 'none') return [];
  return raw.split(',').map((part) => numberArg({ [name]: part }, name, 0, bounds));
}

/** A secret from the environment only: command lines are visible to every user in `ps`. */
export function envSecret(envName: string): string {
  const value = process.env[envName];
  if (!value) throw new UsageError(`set ${envName} in the environment`);
  return value;
}

/** Runs a CLI main: usage errors exit 2 with the usage text, other errors exit 1. */
export function runCli(usage: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${err.message}\n\n${usage}`);
        process.exitCode = 2;
      } else {
        console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
        process.exitCode = 1;
      }
    },
  );
}
