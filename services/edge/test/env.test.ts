import { ConfigError } from '@agentwire/config';
import { describe, expect, it } from 'vitest';
import { parseEdgeEnv } from '../src/env.js';

const required = { JWT_SECRET: '0123456789abcdef', INGEST_TOKEN: 'tok' };

describe('parseEdgeEnv', () => {
  it('applies the documented defaults', () => {
    const env = parseEdgeEnv(required);
    expect(env).toMatchObject({
      PORT: 8080,
      HELLO_TIMEOUT_MS: 5000,
      ACK_TIMEOUT_MS: 5000,
      ACK_CLOSE_MULTIPLIER: 3,
      ACK_FLUSH_MS: 1000,
      UPSTREAM_IDEMPOTENCY_MS: 86_400_000,
      UPSTREAM_MAXLEN: 1_000_000,
      UPSTREAM_RATE_PER_SEC: 20,
      UPSTREAM_BURST: 40,
      MAX_CONNECTIONS_PER_USER: 5,
      MAX_CONNECTIONS: 100_000,
      MAX_EVENT_BYTES: 65536,
      RETENTION_MS: 86_400_000,
      NODE_TTL_MS: 15_000,
      DRAIN_WINDOW_MS: 10_000,
      DRAIN_GRACE_MS: 30_000,
      HEARTBEAT_MS: 25_000,
      MAX_PAYLOAD: 65536,
      SHARDS: 16,
      KEY_PREFIX: 'aw',
      ALLOW_UWS_FALLBACK: false,
      ALLOWED_ORIGINS: [],
      LOG_LEVEL: 'info',
    });
    expect(env.INGEST_MAX_BODY_BYTES).toBe(65536 * 1000 + 65536);
    expect(env.CRITICAL_EVENTS).toContain('tool_executing');
    expect(env.NODE_ID).toMatch(/^[A-Za-z0-9._-]+$/);
  });

  it('reads lists and flags', () => {
    const env = parseEdgeEnv({
      ...required,
      ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      CRITICAL_EVENTS: 'x,y',
      ALLOW_UWS_FALLBACK: 'true',
      INGEST_MAX_BODY_BYTES: '1000',
    });
    expect(env.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(env.CRITICAL_EVENTS).toEqual(['x', 'y']);
    expect(env.ALLOW_UWS_FALLBACK).toBe(true);
    expect(env.INGEST_MAX_BODY_BYTES).toBe(1000);
  });

  it.each([
    ['JWT_SECRET', { INGEST_TOKEN: 'tok' }],
    ['JWT_SECRET', { ...required, JWT_SECRET: 'short' }],
    ['INGEST_TOKEN', { JWT_SECRET: '0123456789abcdef' }],
    ['PORT', { ...required, PORT: '70000' }],
    ['HELLO_TIMEOUT_MS', { ...required, HELLO_TIMEOUT_MS: '-1' }],
    ['SHARDS', { ...required, SHARDS: 'many' }],
    ['NODE_ID', { ...required, NODE_ID: 'has space' }],
    ['DRAIN_WINDOW_MS', { ...required, DRAIN_WINDOW_MS: '30000', DRAIN_GRACE_MS: '30000' }],
    ['UPSTREAM_BURST', { ...required, UPSTREAM_BURST: '0' }],
    ['ACK_CLOSE_MULTIPLIER', { ...required, ACK_CLOSE_MULTIPLIER: '-1' }],
    [
      'SEND_BUFFER_SOFT_BYTES',
      { ...required, SEND_BUFFER_SOFT_BYTES: '2000', SEND_BUFFER_HARD_BYTES: '1000' },
    ],
  ])('names %s when it is bad', (variable, input) => {
    let caught: unknown;
    try {
      parseEdgeEnv(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variables).toContain(variable);
  });
});
