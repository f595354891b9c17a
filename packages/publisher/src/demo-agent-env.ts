import { logLevel, parseEnv, positiveInt, redisEnvSchema, requiredSecret } from '@agentwire/config';
import { Limits } from '@agentwire/protocol';
import { z } from 'zod';

/**
 * The demo agent's environment. Parsed once at start; a bad value throws a
 * ConfigError naming the variable.
 */
export const demoAgentEnvSchema = {
  /** Where its upstream stream is read (the demo page's messages). */
  ...redisEnvSchema,
  /** Base URL of an edge (or the load balancer) for POST /v1/events. @default http://127.0.0.1:8080 */
  EDGE_URL: z
    .string()
    .optional()
    .default('http://127.0.0.1:8080')
    .refine((v) => /^https?:\/\/[^\s/]+/.test(v), 'expected an http(s) URL'),
  /** Bearer token of POST /v1/events. Required. */
  INGEST_TOKEN: requiredSecret(1),
  /** The user whose runs it streams and whose messages it answers. @default demo */
  DEMO_USER: z
    .string()
    .optional()
    .default('demo')
    .refine((v) => Limits.userIdPattern.test(v), 'expected 1-128 of [A-Za-z0-9._:@-]'),
  /** Pause between the end of a scheduled run and the start of the next. @default 8000 */
  DEMO_INTERVAL_MS: positiveInt(8000),
  /** Pace of the runs' token streams (each delay jittered by ±50 %). @default 40 */
  DEMO_TOKENS_PER_SECOND: positiveInt(40).refine((v) => v <= 1000, 'expected at most 1000'),
  /** Exit deadline after SIGTERM or SIGINT. @default 5000 */
  STOP_GRACE_MS: positiveInt(5000).refine((v) => v >= 100, 'expected at least 100'),
  LOG_LEVEL: logLevel,
};

export type DemoAgentEnv = ReturnType<typeof loadDemoAgentEnv>;

export function loadDemoAgentEnv(env: Record<string, string | undefined> = process.env) {
  return parseEnv(demoAgentEnvSchema, env);
}
