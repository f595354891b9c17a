import { z } from 'zod';
import { ConfigError } from './config-error.js';

/**
 * Parses the environment once at start against a service's schema.
 * Throws a ConfigError naming every bad variable; the result is frozen.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<z.ZodObject<Shape>>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        problem: issue.message,
      })),
    );
  }
  return Object.freeze(result.data);
}
