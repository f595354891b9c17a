import { ConfigError } from '@agentwire/config';
import { describe, expect, it } from 'vitest';
import { loadDemoAgentEnv } from '../src/demo-agent-env.js';

const required = { INGEST_TOKEN: 't' };

describe('the demo agent environment', () => {
  it('has defaults for everything but INGEST_TOKEN', () => {
    const env = loadDemoAgentEnv(required);
    expect(env).toMatchObject({
      EDGE_URL: 'http://127.0.0.1:8080',
      DEMO_USER: 'demo',
      DEMO_INTERVAL_MS: 8000,
      DEMO_TOKENS_PER_SECOND: 40,
      STOP_GRACE_MS: 5000,
    });
    expect(() => loadDemoAgentEnv({})).toThrow(/INGEST_TOKEN/);
  });

  it.each([
    ['DEMO_INTERVAL_MS', 'soon'],
    ['DEMO_INTERVAL_MS', '-5'],
    ['DEMO_TOKENS_PER_SECOND', '0'],
    ['DEMO_TOKENS_PER_SECOND', '5000'],
    ['STOP_GRACE_MS', '50'],
    ['DEMO_USER', 'no spaces'],
    ['EDGE_URL', 'localhost:8080'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadDemoAgentEnv({ ...required, [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual([variable]);
    expect((error as ConfigError).message).toContain(variable);
  });
});
