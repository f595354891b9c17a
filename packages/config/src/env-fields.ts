import { z } from 'zod';

/** Reusable zod fields for environment variables (all strings on input). */

/** An integer in [min, max] parsed from `raw`, or a zod issue saying what was `expected`. */
function boundedInteger(
  raw: string,
  min: number,
  max: number,
  expected: string,
  ctx: z.RefinementCtx,
) {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    ctx.addIssue({ code: 'custom', message: `expected ${expected}, got "${raw}"` });
    return z.NEVER;
  }
  return value;
}

/** An integer of at least `min`, with a default when unset or empty. */
function integerAtLeast(min: number, defaultValue: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) =>
      raw === undefined || raw === ''
        ? defaultValue
        : boundedInteger(raw, min, Number.MAX_SAFE_INTEGER, `an integer >= ${min}`, ctx),
    );
}

/** A positive integer with a default, e.g. a duration in ms. */
export function positiveInt(defaultValue: number) {
  return integerAtLeast(1, defaultValue);
}

/** A non-negative integer with a default (0 allowed, e.g. "unlimited"). */
export function nonNegativeInt(defaultValue: number) {
  return integerAtLeast(0, defaultValue);
}

export function port(defaultValue: number) {
  return positiveInt(defaultValue).refine((value) => value <= 65535, 'expected a port (1-65535)');
}

/** A port, or undefined when unset or empty (for settings whose default depends on another). */
export function optionalPort() {
  return z
    .string()
    .optional()
    .transform((raw, ctx) =>
      raw === undefined || raw === ''
        ? undefined
        : boundedInteger(raw, 1, 65535, 'a port (1-65535)', ctx),
    );
}

export function booleanFlag(defaultValue: boolean) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return defaultValue;
      if (/^(1|true|yes)$/i.test(raw)) return true;
      if (/^(0|false|no)$/i.test(raw)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${raw}"` });
      return z.NEVER;
    });
}

/** A comma separated list; unset gives the default. */
export function commaList(defaultValue: readonly string[]) {
  return z
    .string()
    .optional()
    .transform((raw) =>
      raw === undefined || raw.trim() === ''
        ? [...defaultValue]
        : raw
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item.length > 0),
    );
}

export function requiredSecret(minLength: number) {
  return z
    .string({ message: 'is required' })
    .min(minLength, `must be at least ${minLength} characters`);
}

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .optional()
  .default('info');
